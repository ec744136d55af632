import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAutomation, flow, step, startInstance, validateAutomation } from '../../src/automations/index.ts';
import { harness, T0 } from './harness.ts';

const order = () =>
  defineAutomation('Order', {
    nodes: {
      received: flow.execute((ctx) => {
        ctx.data.received = true;
      }),
      hello: flow.sendMessage({ browser: true }, 'hello', undefined, { n: 1 }),
      approve: flow.form(z.object({ ok: z.boolean() })).group('backoffice'),
      approved: flow.sendMessage({ browser: true }, 'approved', 'ignored-token', (ctx) => ({ ok: (ctx.data.approve as { ok: boolean }).ok })),
      end: flow.end(),
    },
  });

describe('SendMessage to { browser: true }', () => {
  it('closes its history row with { browser: { message, payload } } and emits a browser-message effect, queuing nothing', async () => {
    const { runner, effects } = harness([order()]);
    const instance = await runner.create('Order', {});
    expect(instance.paths[0]).toMatchObject({ node: 'approve', status: 'form' });
    const rows = await runner.history(instance.id);
    expect(rows.find((r) => r.status === 'hello')).toMatchObject({ message: 'OK', result: { browser: { message: 'hello', payload: { n: 1 } } } });
    const hello = rows.find((r) => r.status === 'hello')!;
    expect(effects).toContainEqual({ type: 'browser-message', instanceId: instance.id, taskId: hello.taskId, message: 'hello', payload: { n: 1 } });
    expect(effects.some((e) => e.type === 'send-message')).toBe(false);
    expect(await runner.undeliverableMessages()).toEqual([]);

    await runner.submitForm(instance.id, { node: 'approve' }, { id: 'bo', groups: ['backoffice'] }, { ok: true });
    const after = await runner.get(instance.id);
    expect(after.finished).toBe(true);
    const messages = (await runner.history(instance.id)).filter((r) => (r.result as { browser?: unknown } | null)?.browser);
    expect(messages.map((r) => [r.taskId, r.result])).toEqual([
      [hello.taskId, { browser: { message: 'hello', payload: { n: 1 } } }],
      [expect.any(Number), { browser: { message: 'approved', payload: { ok: true } } }],
    ]);
    expect(messages[1]!.taskId).toBeGreaterThan(hello.taskId);
    expect(effects.filter((e) => e.type === 'browser-message').map((e) => (e as { message: string }).message)).toEqual(['hello', 'approved']);
    expect(await runner.runUntilIdle()).toBe(1); // nothing left in the outbox
  });

  it('is pure in the engine: the effect comes from step, and a throwing payload function stops the path', async () => {
    const definition = defineAutomation('Bad', {
      nodes: {
        tell: flow.sendMessage({ browser: true }, 'oops', undefined, () => {
          throw new Error('no payload');
        }),
        end: flow.end(),
      },
    });
    expect(validateAutomation(definition)).toEqual([]);
    const started = await startInstance(definition, { id: 'b1', key: 'k', data: {}, now: T0 });
    const stepped = await step(definition, started.state, T0);
    expect(stepped.effects).toEqual([]);
    expect(stepped.state.paths[0]).toMatchObject({ status: 'error' });
  });
});
