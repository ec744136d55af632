import { describe, expect, it } from 'vitest';
import { flowAction, hours, MemoryAutomationStorage, startFlow, suspend, waitForTrigger } from '../../src/automations/index.ts';
import { manualFlowControl, objectBoundRuns } from './flowcontrol-scenarios.ts';

const wait = flowAction('wait', (ctx) => suspend(ctx.now + hours(1)));

describe('flows bound to an object type and object', () => {
  it('binds runs to the flow’s object type, refuses other types, and holds the per-object limits (memory)', async () => {
    const store = new MemoryAutomationStorage();
    await objectBoundRuns(async () => store);
  });

  it('allows one unfinished run per object by default (the seed’s max_concurrent_per_object = 1), and any number without an object', async () => {
    const { control, clock } = manualFlowControl([{ name: 'f', actions: [wait] }]);
    expect(await control.createRun('f', { objectId: 'a' })).not.toBeNull();
    expect(await control.createRun('f', { objectId: 'a' })).toBeNull();
    expect(await control.createRun('f', { objectId: 'b' })).not.toBeNull();
    expect(await control.createRun('f')).not.toBeNull();
    expect(await control.createRun('f')).not.toBeNull();
    await control.continueFlowRuns();
    clock.advance(hours(1));
    expect((await control.continueFlowRuns()).map((run) => run.status)).toEqual(['done', 'done', 'done', 'done']);
    expect(await control.createRun('f', { objectId: 'a' })).not.toBeNull();
  });

  it('lists the runs of an object, of every flow, finished ones too', async () => {
    const { control } = manualFlowControl([
      { name: 'f', actions: [] },
      { name: 'g', actions: [wait] },
    ]);
    await control.startRun('f', { objectId: 'a', objectType: 'user' });
    await control.startRun('g', { objectId: 'a', objectType: 'user' });
    await control.startRun('g', { objectId: 'b' });
    expect((await control.runsForObject('a', 'user')).map((r) => [r.flow, r.status])).toEqual([
      ['f', 'done'],
      ['g', 'waiting'],
    ]);
    expect(await control.runsForObject('a', 'order')).toEqual([]);
  });

  it('maxConcurrent 0 means no limit, as in the seed', async () => {
    const { control } = manualFlowControl([{ name: 'f', maxConcurrent: 0, actions: [wait] }]);
    const runs = await Promise.all([control.createRun('f'), control.createRun('f'), control.createRun('f')]);
    expect(runs.every((run) => run !== null)).toBe(true);
  });

  it('gives actions the object type, and Start new flow passes it on with the object', async () => {
    const { control } = manualFlowControl([
      { name: 'order', objectType: 'order', actions: [startFlow('invoice', 'invoice')] },
      { name: 'invoice', actions: [flowAction('see', (ctx) => {
          ctx.state.object = `${ctx.objectType}/${ctx.objectId}`;
        })] },
    ]);
    const run = await control.startRun('order', { objectId: '7' });
    const [child] = await control.children(run?.id as string);
    expect(child).toMatchObject({ objectId: '7', objectType: 'order' });
    expect((await control.execute(child?.id as string)).state.object).toBe('order/7');
  });

  it('a trigger fired with an object type resumes only runs bound to an object of that type', async () => {
    const { control } = manualFlowControl([{ name: 'f', objectType: 'order', actions: [waitForTrigger('wait', 'paid')] }]);
    const run = await control.startRun('f', { objectId: '7' });
    expect(await control.triggerFlows('paid', { objectId: '7', objectType: 'invoice' })).toEqual([]);
    expect((await control.triggerFlows('paid', { objectId: '7', objectType: 'order' })).map((r) => r.id)).toEqual([run?.id]);
  });
});
