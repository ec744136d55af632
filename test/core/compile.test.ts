import { describe, expect, it } from 'vitest';
import { action, compile, defineFlow, requiredState, restoreTask, scaffold, startTask, TaskRecordError } from '../../src/core/index.ts';
import { memoryStore } from '../../src/persist/index.ts';

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
