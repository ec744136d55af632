import { describe, expect, it } from 'vitest';
import { action, compile, defineFlow, type Outcome, outcome, requiredState, restoreTask, scaffold, startTask, TaskRecordError } from '../../src/core/index.ts';
import { memoryStore } from '../../src/persist/index.ts';
import { deepFlow } from '../../bench/flow-of-size.ts';

const step = (id: string, extra: Partial<Parameters<typeof action>[0]> = {}) => action({ id, title: id, ...extra });

/** The phase states the compiled machine gives a node, by id. */
function phasesOf(flow: ReturnType<typeof defineFlow>, id: string) {
  const node = (compile(flow).machine as unknown as { idMap: Map<string, { states: Record<string, unknown>; config: { initial?: string } }> }).idMap.get(id)!;
  return { initial: node.config.initial, phases: Object.keys(node.states).filter((key) => key.startsWith('$')).sort() };
}

describe('compile', () => {
  const flow = defineFlow({
    id: 'shape',
    title: 'Shape',
    children: [
      step('plain'),
      step('guarded', { preconditions: [requiredState('item')] }),
      scaffold({ id: 'part', title: 'Part', children: [step('inner')] }),
      scaffold({ id: 'gatedPart', title: 'Gated part', preconditions: [requiredState('item')], children: [step('late')] }),
    ],
  });

  it('gives a node without preconditions no $gate and no $blocked: it starts at $ready, a scaffold at its first child', () => {
    expect(phasesOf(flow, 'plain')).toEqual({ initial: '$ready', phases: ['$ready', '$suspended', '$suspendedRepeat'] });
    expect(phasesOf(flow, 'part')).toEqual({ initial: 'inner', phases: [] });
  });

  it('gives a node with preconditions a $gate to start at and a $blocked to be refused at', () => {
    expect(phasesOf(flow, 'guarded')).toEqual({ initial: '$gate', phases: ['$blocked', '$gate', '$ready', '$suspended', '$suspendedRepeat'] });
    expect(phasesOf(flow, 'gatedPart')).toEqual({ initial: '$gate', phases: ['$blocked', '$gate'] });
  });

  it('shows the same steps, entered once each, with and without a gate in between', async () => {
    const store = memoryStore();
    const task = await startTask(flow, { data: { item: 'book' }, store, binder: 'b' });
    const seen = [task.state.step?.id];
    for (let i = 0; i < 3; i++) {
      expect(await task.submit()).toEqual({ ok: true });
      seen.push(task.state.step?.id);
    }
    expect(seen).toEqual(['plain', 'guarded', 'inner', 'late']);
    const { context } = (await store.get(task.id, 'b'))!.snapshot;
    expect(context.visits).toEqual({ plain: 1, guarded: 1, inner: 1, late: 1 });
    expect(context.trail.map((entry) => entry.step)).toEqual(['plain', 'guarded', 'inner', 'late']);
  });

  it('refuses to restore a task stored at $blocked on a step that has no preconditions any more, naming the task', async () => {
    const store = memoryStore();
    const task = await startTask(flow, { store, binder: 'b' });
    const record = (await store.get(task.id, 'b'))!;
    const stale = { ...record, snapshot: { ...record.snapshot, value: { shape: { plain: '$blocked' } } } };
    await expect(restoreTask(flow, stale, { store, binder: 'b' })).rejects.toThrow(TaskRecordError);
    await expect(restoreTask(flow, stale, { store, binder: 'b' })).rejects.toThrow(task.id);
  });
});

describe('LEAVE, BREAK and ABORT, taken once by the parent for all its action children', () => {
  /** `loop` runs its children again once when `again` is set (ENTER from `returnFromChildren`), leaves `outer` when `out` is set, else goes on. */
  const nested = defineFlow({
    id: 'nested',
    title: 'Nested',
    children: [
      step('a'),
      scaffold({
        id: 'outer',
        title: 'Outer',
        children: [
          step('b'),
          step('loop', {
            children: [step('c1'), step('c2')],
            returnFromChildren: (data) =>
              data.again ? outcome.enter({ again: false }) : data.out ? outcome.leave({ returned: true }) : outcome.continue({ returned: true }),
          }),
          step('e'),
        ],
      }),
      step('f'),
    ],
  });
  const by = (next: Outcome) => ({ next });
  const flowWith = defineFlow({
    ...nested,
    id: 'nestedMoves',
    children: nested.children.map(function moves(node): typeof node {
      const children = node.children?.map(moves);
      return node.kind === 'action'
        ? { ...node, children, submit: (_data: unknown, input: unknown) => (input as { next?: Outcome } | undefined)?.next }
        : { ...node, children: children! };
    }) as typeof nested.children,
  });

  async function at(stepId: string, data: Record<string, unknown> = {}) {
    const store = memoryStore();
    const task = await startTask(flowWith, { data, store, binder: 'b' });
    const path = ['a', 'b', 'loop', 'c1', 'c2', 'e', 'f'];
    for (const id of path.slice(0, path.indexOf(stepId))) {
      expect(task.state.step?.id).toBe(id);
      await task.submit(id === 'loop' ? by(outcome.enter()) : undefined);
    }
    expect(task.state.step?.id).toBe(stepId);
    return { task, store };
  }

  it('leaves a scaffold to the step after it, from its first and its last action', async () => {
    const first = await at('b');
    expect(await first.task.submit(by(outcome.leave({ left: 'b' })))).toEqual({ ok: true });
    expect(first.task.state.step?.id).toBe('f');
    expect(first.task.state.data).toMatchObject({ left: 'b' });
    const last = await at('e');
    await last.task.submit(by(outcome.break()));
    expect(last.task.state.step?.id).toBe('f');
  });

  it("leaves an action's children to its returnFromChildren, which may run them again, and breaks past it without asking", async () => {
    const left = await at('c1', { again: true });
    await left.task.submit(by(outcome.leave()));
    expect(left.task.state.step?.id).toBe('c1');
    expect(left.task.state.data).toMatchObject({ again: false });
    await left.task.submit(by(outcome.leave()));
    expect(left.task.state.step?.id).toBe('e');
    expect(left.task.state.data).toMatchObject({ returned: true });

    const broken = await at('c2', { again: true });
    await broken.task.submit(by(outcome.break()));
    expect(broken.task.state.step?.id).toBe('e');
    expect(broken.task.state.data).not.toHaveProperty('returned');
  });

  it('ends the flow by LEAVE at the top level, and aborts from any depth, keeping the input of the step it came from', async () => {
    const top = await at('f');
    await top.task.submit(by(outcome.leave()));
    expect(top.task.state.status).toBe('completed');

    const deep = await at('c2');
    await deep.task.submit({ next: outcome.abort('changed my mind'), note: 'kept' });
    expect(deep.task.state.status).toBe('aborted');
    const { context } = (await deep.store.get(deep.task.id, 'b'))!.snapshot;
    expect(context.reason).toBe('changed my mind');
    expect(context.inputs.c2).toEqual({ next: outcome.abort('changed my mind'), note: 'kept' });
  });

  it("takes the LEAVE of an action whose children are done to the action's parent, not back into the action", async () => {
    const { task } = await at('c2', { out: true });
    await task.submit(by(outcome.leave()));
    expect(task.state.step?.id).toBe('f');
    expect(task.state.data).toMatchObject({ returned: true });
  });

  it('aborts by task.abort() from a suspension and from a step, keeping the reason', async () => {
    const { task } = await at('b');
    await task.submit(by(outcome.suspend(Date.now() + 60_000)));
    expect(task.state.status).toBe('suspended');
    await task.abort('out of stock');
    expect(task.state).toMatchObject({ status: 'aborted', reason: 'out of stock' });
    const other = await at('c1');
    await other.task.abort();
    expect(other.task.state).toMatchObject({ status: 'aborted', reason: null });
    await expect(other.task.abort()).rejects.toThrow(/aborted/);
  });

  it('compiles a 1,000-step flow ten scaffolds deep to 4,014 states and 8,025 transitions', () => {
    const { machine } = compile(deepFlow(1000, 10));
    const nodes = [...(machine as unknown as { idMap: Map<string, { transitions: Map<string, unknown[]>; always?: unknown[] }> }).idMap.values()];
    const transitions = nodes.reduce((sum, node) => sum + [...node.transitions.values()].reduce((n, list) => n + list.length, 0) + (node.always?.length ?? 0), 0);
    expect([nodes.length, transitions]).toEqual([4014, 8025]);
  });

  it('goes BACK and to a visited step by GOTO with the data as it was there, and refuses both where nothing was visited', async () => {
    const { task } = await at('c2');
    await task.back();
    expect(task.state.step?.id).toBe('c1');
    await task.goTo('a');
    expect(task.state.step?.id).toBe('a');
    await expect(task.back()).rejects.toThrow();
    await task.goTo('c2');
    expect(task.state.step?.id).toBe('c2');
    await expect(task.goTo('e')).rejects.toThrow();
  });
});
