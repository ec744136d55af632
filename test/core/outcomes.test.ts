import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  action,
  defineFlow,
  type Flow,
  HotLoopError,
  InvalidOutcomeError,
  type Outcome,
  outcome,
  scaffold,
  startTask,
  type Task,
} from '../../src/core/index.ts';
import { manualClock } from '../helpers/clock.ts';

/** An action whose submit returns whatever the test passes as `{ next }`. */
const step = (id: string, extra: Partial<Parameters<typeof action>[0]> = {}) =>
  action({
    id,
    title: id.toUpperCase(),
    submit: (_data, input) => (input as { next?: Outcome } | undefined)?.next,
    ...extra,
  });

async function at(task: Task, next?: Outcome) {
  const result = await task.submit(next ? { next } : undefined);
  return result.ok ? (task.state.step?.id ?? task.state.status) : result;
}

describe('complete lets the parent scaffold decide', () => {
  it('moves to the next child in a linear scaffold, and out of it after the last', async () => {
    const flow = defineFlow({ id: 'f', title: 'F', children: [scaffold({ id: 's', title: 'S', children: [step('a'), step('b')] }), step('c')] });
    const task = await startTask(flow);
    expect(await at(task)).toBe('b');
    expect(await at(task)).toBe('c');
    expect(await at(task)).toBe('completed');
  });

  it('completes an explicit scaffold from any child', async () => {
    const inner = scaffold({ id: 's', title: 'S', transitions: 'explicit', children: [step('a', { targets: ['b'] }), step('b')] });
    const flow = defineFlow({ id: 'f', title: 'F', children: [inner, step('c')] });
    const task = await startTask(flow);
    expect(await at(task)).toBe('c');
  });

  it('completes a choice scaffold when the chosen branch completes', async () => {
    const flow = defineFlow({
      id: 'f',
      title: 'F',
      children: [scaffold({ id: 'pick', title: 'Pick', transitions: 'choice', children: [step('a'), step('b')] }), step('c')],
    });
    const task = await startTask(flow);
    expect(task.state.step).toMatchObject({ id: 'pick', kind: 'choice', options: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }] });
    expect(await at(task, undefined)).toMatchObject({ ok: false, errors: { choice: ['Choose one of: a, b'] } });
    expect(await task.submit({ choice: 'b' })).toEqual({ ok: true });
    expect(await at(task)).toBe('c');
  });

  it('keeps the option picked in the data under the choice id, and forgets it on Back', async () => {
    const plain = action({ id: 'plain', title: 'Plain' });
    const fancy = action({ id: 'fancy', title: 'Fancy' });
    const flow = defineFlow({
      id: 'f',
      title: 'F',
      children: [scaffold({ id: 'style', title: 'Style', transitions: 'choice', children: [plain, fancy] }), action({ id: 'end', title: 'End' })],
    });
    const task = await startTask(flow, { data: { seen: true } });
    await task.submit({ choice: 'fancy' });
    expect(task.state.data).toEqual({ seen: true, style: 'fancy' });
    await task.back();
    expect(task.state.step?.id).toBe('style');
    expect(task.state.data).toEqual({ seen: true });
    await task.submit({ choice: 'plain' });
    expect(task.state.data.style).toBe('plain');
  });
});

describe('goTo', () => {
  it('goes to a declared action or scaffold, typed by the targets', async () => {
    const a = action({ id: 'a', title: 'A', targets: ['s', 'c'], submit: (_d, input: unknown, { goTo }) => goTo(input === 'c' ? 'c' : 's') });
    const flow = defineFlow({ id: 'f', title: 'F', transitions: 'explicit', children: [a, scaffold({ id: 's', title: 'S', children: [step('b')] }), step('c')] });
    const task = await startTask(flow);
    await task.submit('s');
    expect(task.state.step?.id).toBe('b');
    const other = await startTask(flow);
    await other.submit('c');
    expect(other.state.step?.id).toBe('c');
  });

  it('refuses, without moving, a target the action did not declare', async () => {
    const flow = defineFlow({ id: 'f', title: 'F', children: [step('a'), step('b')] });
    const task = await startTask(flow);
    const result = await task.submit({ next: outcome.goTo('b') });
    expect(result).toMatchObject({ ok: false, error: expect.any(InvalidOutcomeError) });
    expect(result.ok === false && result.error?.code).toBe('invalid-outcome');
    expect(result.ok === false && result.message).toMatch(/step "a".*"b" is not among its declared targets/);
    expect(task.state.step?.id).toBe('a');
  });
});

describe('flowcontrol directives', () => {
  it('CONTINUE runs the next action in sequence; inside an explicit scaffold it is refused', async () => {
    const linear = await startTask(defineFlow({ id: 'f', title: 'F', children: [step('a'), step('b')] }));
    expect(await at(linear, outcome.continue())).toBe('b');
    const explicit = await startTask(defineFlow({ id: 'g', title: 'G', transitions: 'explicit', children: [step('a', { targets: ['b'] }), step('b')] }));
    expect(await at(explicit, outcome.continue())).toMatchObject({ ok: false, error: { code: 'invalid-outcome' } });
  });

  it('ENTER runs the action’s children, then returns to it (return_from_children, CONTINUE by default)', async () => {
    const parent = step('parent', { children: [step('child1'), step('child2')] });
    const task = await startTask(defineFlow({ id: 'f', title: 'F', children: [parent, step('after')] }));
    expect(await at(task, outcome.enter())).toBe('child1');
    expect(await at(task)).toBe('child2');
    expect(await at(task)).toBe('after');
    expect(task.toRecord().history.map((h) => [h.from, h.to, h.event])).toContainEqual(['parent', 'after', 'auto']);
  });

  it('returnFromChildren decides where to go after the children, e.g. run them again', async () => {
    let rounds = 0;
    const parent = step('parent', {
      children: [step('child')],
      returnFromChildren: () => (++rounds < 2 ? outcome.enter() : outcome.continue()),
    });
    const task = await startTask(defineFlow({ id: 'f', title: 'F', children: [parent, step('after')] }));
    expect(await at(task, outcome.enter())).toBe('child');
    expect(await at(task)).toBe('child');
    expect(await at(task)).toBe('after');
    expect(rounds).toBe(2);
  });

  it('ENTER from an action without children is refused', async () => {
    const task = await startTask(defineFlow({ id: 'f', title: 'F', children: [step('a')] }));
    expect(await at(task, outcome.enter())).toMatchObject({ ok: false, message: expect.stringMatching(/"enter" is not possible here \(ENTER needs children/) });
  });

  describe('LEAVE vs BREAK in nested scaffolds', () => {
    const flow = defineFlow({
      id: 'f',
      title: 'F',
      children: [
        step('start'),
        scaffold({
          id: 'outer',
          title: 'Outer',
          children: [scaffold({ id: 'inner', title: 'Inner', children: [step('i1'), step('i2'), step('i3')] }), step('o2')],
        }),
        step('end'),
      ],
    });

    it('LEAVE returns to the parent scaffold, which goes on after itself (a scaffold has no loop)', async () => {
      const task = await startTask(flow);
      await at(task);
      expect(await at(task)).toBe('i2');
      expect(await at(task, outcome.leave())).toBe('o2');
      expect(await at(task, outcome.leave())).toBe('end');
    });

    it('BREAK leaves the parent and goes to its next sibling, skipping the rest of the parent', async () => {
      const task = await startTask(flow);
      await at(task);
      expect(await at(task)).toBe('i2');
      expect(await at(task, outcome.break())).toBe('o2');
      expect(await at(task, outcome.break())).toBe('end');
    });

    it('LEAVE of the children of an action runs its returnFromChildren; BREAK goes past the action without it', async () => {
      const returns: string[] = [];
      const parent = step('parent', {
        children: [step('c1'), step('c2')],
        returnFromChildren: (data) => {
          returns.push('parent');
          return data.again ? outcome.enter({ again: false }) : outcome.continue();
        },
      });
      const task = await startTask(defineFlow({ id: 'g', title: 'G', children: [parent, step('after')] }));
      expect(await at(task, outcome.enter({ again: true }))).toBe('c1');
      expect(await at(task, outcome.leave())).toBe('c1');
      expect(returns).toEqual(['parent']);
      expect(await at(task, outcome.leave())).toBe('after');
      expect(returns).toEqual(['parent', 'parent']);
      await task.back();
      expect(task.state.step?.id).toBe('c1');
      expect(await at(task, outcome.break())).toBe('after');
      expect(returns).toEqual(['parent', 'parent']);
    });

    it('LEAVE inside an if-like automatic action goes on after it instead of entering it again', async () => {
      let entered = 0;
      const when = action({
        id: 'when',
        title: 'When',
        auto: true,
        children: [step('inside')],
        submit: () => {
          entered++;
          return outcome.enter();
        },
      });
      const task = await startTask(defineFlow({ id: 'if', title: 'If', children: [when, step('after')] }));
      expect(task.state.step?.id).toBe('inside');
      expect(await at(task, outcome.leave())).toBe('after');
      expect(entered).toBe(1);
      expect(task.state.error).toBeNull();
    });

    it('LEAVE and BREAK at the top level complete the task, as they end a django-flowcontrol run', async () => {
      const flow2 = defineFlow({ id: 'g', title: 'G', children: [step('a'), step('b')] });
      expect(await at(await startTask(flow2), outcome.leave())).toBe('completed');
      expect(await at(await startTask(flow2), outcome.break())).toBe('completed');
    });
  });

  it('ABORT stops the task for good, with the reason', async () => {
    const task = await startTask(defineFlow({ id: 'f', title: 'F', children: [step('a'), step('b')] }));
    expect(await at(task, outcome.abort('customer left'))).toBe('aborted');
    expect(task.state).toMatchObject({ status: 'aborted', reason: 'customer left', step: null });
    expect(await task.submit()).toMatchObject({ ok: false, error: { code: 'task-finished' } });
    await expect(task.back()).rejects.toMatchObject({ code: 'task-finished' });
  });

  it('SUSPEND pauses until the time comes, then continues with the next sibling', async () => {
    const clock = manualClock();
    const task = await startTask(defineFlow({ id: 'f', title: 'F', children: [step('a'), step('b')] }), { clock });
    await task.submit({ next: outcome.suspend(clock.now() + 60_000) });
    expect(task.state).toMatchObject({ status: 'suspended', until: clock.now() + 60_000, step: { id: 'a' } });
    expect(await task.submit()).toMatchObject({ ok: false, error: { code: 'task-finished' } });
    await clock.advance(59_999);
    expect(task.state.status).toBe('suspended');
    await clock.advance(1);
    await vi.waitFor(() => expect(task.state).toMatchObject({ status: 'active', step: { id: 'b' } }));
    expect(task.toRecord().history.at(-1)).toMatchObject({ event: 'resume', from: 'a', to: 'b' });
  });

  it('SUSPEND_AND_REPEAT pauses, then runs the same step again', async () => {
    const clock = manualClock();
    const task = await startTask(defineFlow({ id: 'f', title: 'F', children: [step('a'), step('b')] }), { clock });
    await task.submit({ next: outcome.suspendAndRepeat(new Date(clock.now() + 5_000)) });
    expect(task.state.status).toBe('suspended');
    expect(task.state.step).toMatchObject({ id: 'a', visit: 1 });
    await clock.advance(5_000);
    await vi.waitFor(() => expect(task.state).toMatchObject({ status: 'active', step: { id: 'a', visit: 2 } }));
    expect(await at(task)).toBe('b');
  });

  it('resume() wakes a suspended task early', async () => {
    const clock = manualClock();
    const task = await startTask(defineFlow({ id: 'f', title: 'F', children: [step('a'), step('b')] }), { clock });
    await task.submit({ next: outcome.suspend(clock.now() + 3_600_000) });
    await task.resume();
    expect(task.state.step?.id).toBe('b');
    await expect(task.resume()).rejects.toMatchObject({ code: 'not-suspended' });
    await task.abort();
    await expect(task.resume()).rejects.toMatchObject({ code: 'task-finished' });
  });
});

describe('fail', () => {
  it('stays on the step with the message and field errors', async () => {
    const task = await startTask(defineFlow({ id: 'f', title: 'F', children: [step('a'), step('b')] }));
    const result = await task.submit({ next: outcome.fail('Card declined', { number: ['Declined'] }) });
    expect(result).toEqual({ ok: false, message: 'Card declined', errors: { number: ['Declined'] } });
    expect(task.state).toMatchObject({ step: { id: 'a' }, message: 'Card declined', errors: { number: ['Declined'] } });
  });
});

describe('the hot-loop limit', () => {
  it('aborts a flow whose automatic steps cycle without user input', async () => {
    const ping = action({ id: 'ping', title: 'Ping', auto: true, targets: ['pong'], submit: (_d, _i, { goTo }) => goTo('pong') });
    const pong = action({ id: 'pong', title: 'Pong', auto: true, targets: ['ping'], submit: (_d, _i, { goTo }) => goTo('ping') });
    const flow: Flow = defineFlow({ id: 'loop', title: 'Loop', maxHotLoop: 5, children: [step('start'), ping, pong] });
    const task = await startTask(flow);
    const result = await task.submit();
    expect(result).toMatchObject({ ok: false, error: expect.any(HotLoopError) });
    expect(result.ok === false && result.error?.message).toMatch(/step "ping" ran 5 times without user input/);
    expect(task.state).toMatchObject({ status: 'aborted', reason: 'hot-loop' });
  });

  it('lets automatic steps run in a row below the limit', async () => {
    let n = 0;
    const count = action({ id: 'count', title: 'Count', auto: true, targets: ['count'], submit: (_d, _i, { goTo }) => (++n < 4 ? goTo('count') : outcome.complete({ n })) });
    const task = await startTask(defineFlow({ id: 'f', title: 'F', maxHotLoop: 5, children: [count, step('done')] }));
    expect(task.state).toMatchObject({ step: { id: 'done' }, data: { n: 4 } });
  });
});

describe('validation', () => {
  it('returns field errors from the schema and keeps the input as a draft', async () => {
    const form = action({ id: 'form', title: 'Form', schema: z.object({ age: z.number().min(18, 'Adults only'), name: z.string() }) });
    const task = await startTask(defineFlow({ id: 'f', title: 'F', children: [form, step('next')] }));
    const result = await task.submit({ age: 12, name: 'Kid' });
    expect(result).toMatchObject({ ok: false, errors: { age: ['Adults only'] } });
    expect(task.state.step).toMatchObject({ id: 'form', draft: { age: 12, name: 'Kid' } });
    expect(await task.submit({ age: 30, name: 'Ada' })).toEqual({ ok: true });
    expect(task.state.data.form).toEqual({ age: 30, name: 'Ada' });
  });
});
