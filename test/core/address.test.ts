import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AddressMemory, type AddressView, addressMemory, addressMove, stayAt, stepAtUrl, urlOfStep } from '../../src/core/address.ts';
import { action, defineFlow, scaffold } from '../../src/core/index.ts';

const card = action({ id: 'card', title: 'Card' });
const bank = action({ id: 'bank', title: 'Bank' });
const method = scaffold({ id: 'method', path: 'pay', title: 'How to pay', transitions: 'choice', children: [card, bank] });
const check = action({ id: 'check', title: 'Checking', auto: true });
const flow = defineFlow({ id: 'order', title: 'Order', children: [action({ id: 'name', title: 'Name' }), method, check, action({ id: 'review', title: 'Review' })] });
const steps = ['name', 'method', 'card', 'bank', 'review'] as const;
const url = (step: string) => urlOfStep(flow, step)!;

/** `addressMove`'s decision, named. */
function decide(memory: AddressMemory, shown: AddressView) {
  const [move, next] = addressMove(memory, shown);
  return { move, memory: next };
}

/** The view of a task at `step` (visited before it: `visited`), shown at `here`. */
function view(step: string | null, here: string, more: Partial<AddressView> = {}): AddressView {
  return {
    flow,
    addressed: true,
    step: step === null ? null : { id: step, url: url(step) },
    status: step === null ? 'completed' : 'active',
    visited: step === null ? [] : [step],
    ahead: [],
    here,
    key: 'k1',
    popped: false,
    ...more,
  };
}

describe('step addresses', () => {
  it('gives each node its path below the mount point, and finds steps (not other nodes) by path', () => {
    expect(steps.map(url)).toEqual(['/name', '/pay', '/pay/card', '/pay/bank', '/review']);
    expect(steps.map((step) => stepAtUrl(flow, url(step)))).toEqual([...steps]);
    expect(url('check')).toBe('/check');
    expect(stepAtUrl(flow, '/check')).toBeUndefined();
    expect(stepAtUrl(flow, '')).toBeUndefined();
    expect(stepAtUrl(flow, '/nowhere')).toBeUndefined();
    expect(urlOfStep(flow, 'nowhere')).toBeUndefined();
  });
});

describe('how the address follows the task', () => {
  it('does nothing when the address shows the task’s step, and remembers it as agreed', () => {
    const { move, memory } = decide(addressMemory(null), view('method', '/pay'));
    expect(move).toEqual({ type: 'none' });
    expect(memory).toMatchObject({ synced: 'method', ended: false });
  });

  it('pushes the step a task moved to, so Back returns to the one before', () => {
    const { move, memory } = decide(addressMemory('name'), view('method', '/name', { visited: ['name', 'method'] }));
    expect(move).toEqual({ type: 'show', pages: [{ url: '/pay', replace: false }] });
    expect(memory).toMatchObject({ synced: 'method', left: 'k1', entry: '/pay' });
  });

  it('turns the flow’s own path into the page of the step drawn there before pushing the next', () => {
    const { move } = decide(addressMemory('name'), view('method', '', { visited: ['name', 'method'] }));
    expect(move).toEqual({
      type: 'show',
      pages: [
        { url: '/name', replace: true },
        { url: '/pay', replace: false },
      ],
    });
  });

  it('replaces the flow’s own path with the first step shown', () => {
    expect(decide(addressMemory(null), view('name', '')).move).toEqual({ type: 'show', pages: [{ url: '/name', replace: true }] });
  });

  it('goes to a visited step, or forward to one gone back from, when the address names it', () => {
    const memory = addressMemory('method');
    expect(decide(memory, view('method', '/name', { visited: ['name', 'method'] })).move).toEqual({ type: 'goto', step: 'name' });
    expect(decide(memory, view('method', '/review', { visited: ['name', 'method'], ahead: ['review'] })).move).toEqual({ type: 'goto', step: 'review' });
  });

  it('puts the task’s step back in place of an address it has not reached, or of a suspended task', () => {
    const memory = addressMemory('name');
    const stay = { type: 'show', pages: [{ url: '/name', replace: true }] };
    expect(decide(memory, view('name', '/pay/card')).move).toEqual(stay);
    expect(decide(memory, view('name', '/check')).move).toEqual(stay);
    expect(decide(memory, view('name', '/nowhere')).move).toEqual(stay);
    expect(decide(addressMemory('method'), view('method', '/name', { visited: ['name', 'method'], status: 'suspended' })).move).toEqual({
      type: 'show',
      pages: [{ url: '/pay', replace: true }],
    });
    expect(stayAt(memory, 'k2', '/name')).toEqual([stay, { ...memory, left: 'k2', entry: '/name' }]);
  });

  it('shows a finished task at the flow’s own path, and leaves it with Back from there', () => {
    const shown = decide(addressMemory('review'), view(null, '/review'));
    expect(shown.move).toEqual({ type: 'show', pages: [{ url: '', replace: false }] });
    const ended = decide(shown.memory, view(null, '', { key: 'k2' }));
    expect(ended).toMatchObject({ move: { type: 'none' }, memory: { ended: true, synced: null } });
    expect(decide(ended.memory, view(null, '/review', { key: 'k3', popped: true })).move).toEqual({ type: 'leave' });
    expect(decide(ended.memory, view(null, '/review', { key: 'k3' })).move).toEqual({ type: 'show', pages: [{ url: '', replace: true }] });
  });

  it('gives each step drawn before the address named the task its own entry once it does', () => {
    let memory = addressMemory('name');
    for (const [step, visited] of [
      ['name', ['name']],
      ['method', ['name', 'method']],
      ['card', ['name', 'method', 'card']],
    ] as const) {
      const decided = decide(memory, view(step, '', { addressed: false, visited: [...visited] }));
      expect(decided.move).toEqual({ type: 'none' });
      memory = decided.memory;
    }
    expect(memory.drawn).toEqual(['method', 'card']);
    const shown = decide(memory, view('card', '', { visited: ['name', 'method', 'card'] }));
    expect(shown.move).toEqual({
      type: 'show',
      pages: [
        { url: '/name', replace: true },
        { url: '/pay', replace: false },
        { url: '/pay/card', replace: false },
      ],
    });
    expect(shown.memory).toMatchObject({ synced: 'card', drawn: [], entry: '/pay/card' });
  });

  it('compares the entry it wrote, not the stale one the router still renders', () => {
    const moved = decide(addressMemory('name'), view('method', '/name', { visited: ['name', 'method'] }));
    // The router has not rendered /pay yet: the old entry is not the user going back to it.
    expect(decide(moved.memory, view('method', '/name', { visited: ['name', 'method'] })).move).toEqual({ type: 'none' });
    // It moved on again before rendering: the entry the history is at (/pay) is what Back returns to.
    expect(decide(moved.memory, view('card', '/name', { visited: ['name', 'method', 'card'] })).move).toEqual({
      type: 'show',
      pages: [{ url: '/pay/card', replace: false }],
    });
    // Rendered at last: the address agrees.
    expect(decide(moved.memory, view('method', '/pay', { key: 'k2', visited: ['name', 'method'] }))).toMatchObject({
      move: { type: 'none' },
      memory: { left: null, synced: 'method' },
    });
  });

  const step = fc.constantFrom(...steps);
  const situation = fc.record({
    memory: fc.record({
      synced: fc.option(step, { nil: null }),
      left: fc.constantFrom(null, 'k0', 'k1'),
      entry: fc.constantFrom('', '/name', '/pay', '/review'),
      ended: fc.boolean(),
      drawn: fc.subarray([...steps]),
    }) as fc.Arbitrary<AddressMemory>,
    step: fc.option(step, { nil: null }),
    status: fc.constantFrom('active', 'suspended') as fc.Arbitrary<AddressView['status']>,
    visited: fc.subarray([...steps]),
    ahead: fc.subarray([...steps]),
    here: fc.constantFrom('', '/check', '/nowhere', ...steps.map(url)),
    popped: fc.boolean(),
  });

  it('only ever shows the task’s own step last, pushes one entry more than the steps drawn unseen at most, goes only to steps visited or ahead, and waits for its address', () => {
    fc.assert(
      fc.property(situation, fc.boolean(), ({ memory, step, status, visited, ahead, here, popped }, addressed) => {
        const shown = view(step, here, { status: step === null ? 'completed' : status, visited, ahead, popped, addressed });
        const { move, memory: next } = decide(memory, shown);
        const taskUrl = step === null ? '' : url(step);
        if (move.type === 'show') {
          expect(move.pages.at(-1)!.url).toBe(taskUrl);
          expect(move.pages.filter((page) => !page.replace).length).toBeLessThanOrEqual(1 + memory.drawn.length);
          expect(move.pages.slice(1).every((page) => !page.replace)).toBe(true);
          expect(next).toMatchObject({ left: 'k1', entry: taskUrl, drawn: [] });
        }
        if (move.type === 'goto') {
          expect(shown.status).toBe('active');
          expect([...visited, ...ahead]).toContain(move.step);
          expect(url(move.step)).toBe(here);
        }
        if (!addressed) expect(move).toEqual({ type: 'none' });
        if (move.type === 'leave') expect(memory.ended && popped).toBe(true);
        // Whatever was decided, the task's step is what the address agrees with afterwards.
        if (addressed && move.type !== 'goto' && move.type !== 'leave') expect(next.synced === (step ?? null) || memory.left === 'k1').toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('never writes to the address when it already shows the task’s step (the router has caught up)', () => {
    fc.assert(
      fc.property(situation, ({ memory, step, visited, popped }) => {
        const here = step === null ? '' : url(step);
        const { move } = decide({ ...memory, left: null }, view(step, here, { visited, popped }));
        expect(move).toEqual({ type: 'none' });
      }),
    );
  });
});
