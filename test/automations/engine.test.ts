import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAutomation, flow, hours, nextDueAt, openForms, startInstance, step, submitForm } from '../../src/automations/index.ts';
import { T0 } from './harness.ts';

const def = defineAutomation('Pure', {
  nodes: {
    greet: flow.execute((ctx) => {
      ctx.data.greeted = true;
      return 'hi';
    }),
    tell: flow.sendMessage('other-instance', 'ping', 'tok', { n: 1 }),
    ask: flow.form(z.object({ name: z.string() })).user('u1'),
    later: flow.execute().afterWaitingFor(hours(2)),
    end: flow.end(),
  },
});

describe('the pure engine', () => {
  it('computes the next state, history changes and effects without touching its input', async () => {
    const started = await startInstance(def, { id: 'i1', key: 'k1', data: {}, now: T0 });
    expect(started.history).toEqual([{ type: 'open', row: expect.objectContaining({ instanceId: 'i1', taskId: 1, status: 'greet', created: T0 }) }]);
    const before = structuredClone(started.state);

    const first = await step(def, started.state, T0);
    expect(started.state).toEqual(before);
    expect(first.changed).toBe(true);
    expect(first.state.data).toEqual({ greeted: true });
    expect(first.history).toEqual([
      { type: 'close', instanceId: 'i1', taskId: 1, finished: T0, message: 'OK', result: 'hi' },
      { type: 'open', row: expect.objectContaining({ taskId: 2, status: 'tell' }) },
    ]);
    expect(first.effects).toEqual([]);

    const second = await step(def, first.state, T0);
    expect(second.effects).toEqual([
      { type: 'send-message', from: { instanceId: 'i1', node: 'tell', taskId: 2 }, to: { instanceId: 'other-instance' }, message: 'ping', token: 'tok', payload: { n: 1 } },
    ]);

    const third = await step(def, second.state, T0);
    expect(third.effects).toEqual([{ type: 'form-opened', instanceId: 'i1', taskId: 3, node: 'ask', assignment: { user: 'u1', permissions: [] } }]);
    expect(nextDueAt(def, third.state)).toBeNull();
    expect((await step(def, third.state, T0 + hours(100))).changed).toBe(false);
    expect(openForms(def, third.state, { id: 'u1' })).toHaveLength(1);

    const submitted = await submitForm(def, third.state, { node: 'ask' }, { id: 'u1' }, { name: 'Ada' }, T0 + hours(1));
    expect(submitted.state.data.ask).toEqual({ name: 'Ada' });
    expect(submitted.state.paths[0]).toMatchObject({ node: 'later', waitUntil: T0 + hours(3) });
    expect(nextDueAt(def, submitted.state)).toBe(T0 + hours(3));
    expect((await step(def, submitted.state, T0 + hours(3) - 1)).changed).toBe(false);

    const waited = await step(def, submitted.state, T0 + hours(3));
    const ended = await step(def, waited.state, T0 + hours(3));
    expect(ended.state).toMatchObject({ finished: true, finishedAt: T0 + hours(3), paths: [] });
    expect(ended.effects).toEqual([{ type: 'finished', instanceId: 'i1' }]);
    expect((await step(def, ended.state, T0 + hours(4))).changed).toBe(false);
  });
});
