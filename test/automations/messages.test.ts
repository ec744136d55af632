import { describe, expect, it } from 'vitest';
import {
  defineAutomation,
  flow,
  InstanceFinishedError,
  MissingMessageDataError,
  requireDataParameters,
  satisfiesDataRequirements,
  UnknownReceiverError,
} from '../../src/automations/index.ts';
import { harness } from './harness.ts';

const subscriptions = defineAutomation('Subscriptions', {
  unique: ['list'],
  receivers: {
    update_subscriber: requireDataParameters({ email: 'string' }, (ctx, token, payload) => {
      const list = (ctx.data.subscribers as string[] | undefined) ?? [];
      if (token === 'subscribe') ctx.data.subscribers = [...list, payload.email];
      else if (token === 'unsubscribe') ctx.data.subscribers = list.filter((e) => e !== payload.email);
      return ctx.data.subscribers;
    }),
    claim: (ctx, _token, payload) => {
      if (ctx.data.list === payload.list) return 'received';
      return 'not mine';
    },
    close: (ctx) => {
      ctx.data.closed = true;
    },
  },
  nodes: {
    started: flow.execute((ctx) => {
      ctx.data.started = true;
    }),
    wait: flow.execute().asSoonAs((ctx) => ctx.data.closed === true),
    end: flow.end(),
  },
});

describe('messages', () => {
  it('are delivered to the declared receiver with token and data, which it may store', async () => {
    const { runner } = harness([subscriptions]);
    const { id } = await runner.create(subscriptions, { list: 'news' });
    expect(await runner.sendMessage(id, 'update_subscriber', 'subscribe', { email: 'a@x' })).toEqual(['a@x']);
    await runner.sendMessage(id, 'update_subscriber', 'subscribe', { email: 'b@x' });
    await runner.sendMessage(id, 'update_subscriber', 'unsubscribe', { email: 'a@x' });
    expect((await runner.get(id)).data.subscribers).toEqual(['b@x']);
  });

  it('are checked for required data parameters before delivery', async () => {
    const { runner } = harness([subscriptions]);
    const { id } = await runner.create(subscriptions, { list: 'news' });
    await expect(runner.sendMessage(id, 'update_subscriber', 'subscribe', { email: 42 })).rejects.toBeInstanceOf(MissingMessageDataError);
    await expect(runner.sendMessage(id, 'update_subscriber', 'subscribe', {})).rejects.toThrow(/"email: string"/);
    expect((await runner.get(id)).data.subscribers).toBeUndefined();
    expect(satisfiesDataRequirements(subscriptions, 'update_subscriber', { email: 'a@x' })).toBe(true);
    expect(satisfiesDataRequirements(subscriptions, 'update_subscriber', {})).toBe(false);
    expect(satisfiesDataRequirements(subscriptions, 'close', {})).toBe(true);
  });

  it('to an undeclared receiver or a finished instance are refused', async () => {
    const { runner } = harness([subscriptions]);
    const { id } = await runner.create(subscriptions, { list: 'news' });
    await expect(runner.sendMessage(id, 'unsubscribe_all')).rejects.toBeInstanceOf(UnknownReceiverError);
    await runner.sendMessage(id, 'close');
    expect((await runner.get(id)).finished).toBe(true);
    await expect(runner.sendMessage(id, 'close')).rejects.toBeInstanceOf(InstanceFinishedError);
  });

  it('are dispatched by instance id or by URL key', async () => {
    const { runner } = harness([subscriptions]);
    const { id, key } = await runner.create(subscriptions, { list: 'news' });
    await runner.dispatchMessage({ id }, 'update_subscriber', 'subscribe', { email: 'a@x' });
    await runner.dispatchMessage({ key }, 'update_subscriber', 'subscribe', { email: 'b@x' });
    expect((await runner.getByKey(key)).data.subscribers).toEqual(['a@x', 'b@x']);
  });

  it('create an instance on message, delivering it before the first node runs', async () => {
    const { runner } = harness([subscriptions]);
    let startedWhenReceived: unknown;
    const probe = defineAutomation('Probe', {
      receivers: {
        hello: (ctx) => {
          startedWhenReceived = ctx.data.started ?? false;
        },
      },
      nodes: {
        first: flow.execute((ctx) => {
          ctx.data.started = true;
        }),
        end: flow.end(),
      },
    });
    runner.register(probe);
    const { instance } = await runner.createOnMessage(probe, 'hello');
    expect(startedWhenReceived).toBe(false);
    expect(instance.finished).toBe(true);

    const { instance: subs, result } = await runner.createOnMessage(subscriptions, 'update_subscriber', 'subscribe', { list: 'tech', email: 'c@x' });
    expect(result).toEqual(['c@x']);
    expect(subs.data).toMatchObject({ list: 'tech', subscribers: ['c@x'], started: true });
    // The unique data key must be in the message data.
    await expect(runner.createOnMessage(subscriptions, 'update_subscriber', 'subscribe', { email: 'd@x' })).rejects.toBeInstanceOf(MissingMessageDataError);
  });

  it('are broadcast to every running instance until one answers "received"', async () => {
    const { runner } = harness([subscriptions]);
    for (const list of ['a', 'b', 'c']) await runner.create(subscriptions, { list });
    const all = await runner.broadcastMessage(subscriptions, 'claim', undefined, { list: 'none' });
    expect(all).toEqual(['not mine', 'not mine', 'not mine']);
    const caught = await runner.broadcastMessage(subscriptions, 'claim', undefined, { list: 'b' });
    expect(caught.at(-1)).toBe('received');
    expect(caught.length).toBeLessThanOrEqual(3);
    expect(caught.filter((r) => r === 'received')).toHaveLength(1);
  });

  it('sent by a SendMessage node wait in a durable outbox; undeliverable ones are kept with their error', async () => {
    const sender = defineAutomation('Notifier', {
      nodes: {
        notify: flow.sendMessage((ctx) => ctx.data.to as string, 'update_subscriber', 'subscribe', {}),
        end: flow.end(),
      },
    });
    const { runner, storage } = harness([subscriptions, sender]);
    const target = await runner.create(subscriptions, { list: 'news' });
    const from = await runner.create(sender, { to: target.id });
    expect(from.finished).toBe(true);
    expect(await storage.transaction((tx) => tx.pendingMessages(10))).toEqual([]);
    const [failed] = await runner.undeliverableMessages();
    expect(failed).toMatchObject({ to: { instanceId: target.id }, message: 'update_subscriber', from: { instanceId: from.id, node: 'notify' } });
    expect(failed?.error).toMatch(/lacks or mistypes "email: string"/);
    expect((await runner.get(target.id)).data.subscribers).toBeUndefined();
  });
});
