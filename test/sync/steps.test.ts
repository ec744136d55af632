import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { action, defineFlow, outcome, restoreTask, startTask, type Task } from '../../src/core/index.ts';
import { memoryStore, UNBOUND } from '../../src/persist/index.ts';
import {
  type AutomationClient,
  automationForm,
  awaitAutomation,
  awaitedInstance,
  awaitKey,
  followAutomations,
  openFormTask,
  startAutomation,
  SyncError,
} from '../../src/sync/index.ts';
import { fakeClient, statusOf } from './fakes.ts';

const HOUR = 3_600_000;
const tasks: Task[] = [];
afterEach(() => {
  for (const t of tasks.splice(0)) t.dispose();
});
const track = (t: Task) => {
  tasks.push(t);
  return t;
};
const settle = () => vi.waitFor(() => undefined).then(() => new Promise((r) => setTimeout(r, 10)));

describe('startAutomation', () => {
  it('starts the automation with the task idempotency key and keeps the instance', async () => {
    const fake = fakeClient(statusOf('v1', { id: 'i9' }));
    const start = startAutomation({ id: 'start', title: 'Starting', client: fake.client, automation: 'Order', input: (d) => ({ sku: d.sku }), as: 'order' });
    const flow = defineFlow({ id: 'buy', title: 'Buy', children: [start, action({ id: 'done', title: 'Done' })] });
    const task = track(await startTask(flow, { id: 't1', data: { sku: 'A1' } }));
    expect(task.state.step?.id).toBe('done');
    expect(task.state.data.order).toEqual({ instanceId: 'i9', automation: 'Order' });
    expect(fake.client.start).toHaveBeenCalledWith('Order', { sku: 'A1' }, 't1:start:1');
  });

  it('a refused start fails the step; a retry uses the same key', async () => {
    const fake = fakeClient();
    fake.client.start.mockRejectedValueOnce(new SyncError('invalid-input', 'The order is empty', 422));
    const start = startAutomation({ id: 'start', title: 'Starting', client: fake.client, automation: 'Order', as: 'order' });
    const flow = defineFlow({ id: 'buy', title: 'Buy', children: [start, action({ id: 'done', title: 'Done' })] });
    const task = track(await startTask(flow, { id: 't2' }));
    expect(task.state.step).toMatchObject({ id: 'start', kind: 'auto' });
    expect(task.state.error?.message).toContain('The order is empty');
    await task.retry();
    expect(task.state.step?.id).toBe('done');
    expect(fake.client.start.mock.calls.map((c) => c[2])).toEqual(['t2:start:1', 't2:start:1']);
  });
});

describe('awaitAutomation and followAutomations', () => {
  const build = (client: Pick<AutomationClient, 'status'>, on: Parameters<typeof awaitAutomation>[0]['on'] = {}) =>
    defineFlow({
      id: 'order',
      title: 'Order',
      children: [
        awaitAutomation({
          id: 'wait',
          title: 'Waiting for the warehouse',
          client,
          instance: (d) => (d.order as { instanceId: string }).instanceId,
          until: (s) => (s.nodes.includes('ship') ? { shipped: true } : s.status === 'finished'),
          on,
          pollMs: HOUR,
        }),
        action({ id: 'done', title: 'Done' }),
      ],
    });

  it('suspends while the automation runs and resumes at once with the status pushed, without fetching it again', async () => {
    const fake = fakeClient();
    const task = track(await startTask(build(fake.client), { data: { order: { instanceId: 'i1' } } }));
    expect(task.state.status).toBe('suspended');
    expect(awaitedInstance(task.state)).toEqual({ step: 'wait', instanceId: 'i1', version: 'v1' });
    const unfollow = followAutomations(task, fake.client);
    expect(fake.watching()).toEqual(['i1']);
    fake.push(statusOf('v1')); // the catch-up status the step already saw: no re-check
    await settle();
    expect(fake.client.status).toHaveBeenCalledTimes(1);
    fake.push(statusOf('v2', { nodes: ['pack'] }));
    // The step re-runs with the pushed status: no second request for it.
    await vi.waitFor(() => expect(awaitedInstance(task.state)?.version).toBe('v2'));
    await settle();
    expect(fake.client.status).toHaveBeenCalledTimes(1);
    expect(task.state.status).toBe('suspended');
    expect(fake.watching()).toEqual(['i1']);
    fake.push(statusOf('v3', { nodes: ['ship'] }));
    await vi.waitFor(() => expect(task.state.step?.id).toBe('done'));
    expect(task.state.data.shipped).toBe(true);
    expect(fake.watching()).toEqual([]);
    unfollow();
  });

  it('handles a browser message exactly once, across a restore', async () => {
    const fake = fakeClient(statusOf('v1', { messages: [{ seq: 5, message: 'progress', payload: { pct: 50 }, at: 1 }] }));
    const seen: unknown[] = [];
    const on = {
      progress: (payload: Record<string, unknown>) => {
        seen.push(payload.pct);
        return outcome.suspendAndRepeat(Date.now() + HOUR, { pct: payload.pct });
      },
      cancelled: () => outcome.abort('cancelled by the warehouse'),
    };
    const store = memoryStore();
    const first = track(await startTask(build(fake.client, on), { store, data: { order: { instanceId: 'i1' } } }));
    expect(seen).toEqual([50]);
    expect(first.state).toMatchObject({ status: 'suspended', data: { pct: 50, [awaitKey('wait')]: { instanceId: 'i1', seq: 5, version: 'v1' } } });
    first.dispose();

    const record = await store.get(first.id, UNBOUND);
    const task = track(await restoreTask(build(fake.client, on), record!, { store }));
    const unfollow = followAutomations(task, fake.client);
    await task.resume();
    expect(seen).toEqual([50]);
    expect(task.state.status).toBe('suspended');
    fake.push(statusOf('v2', { messages: [...fake.state.server.messages, { seq: 7, message: 'unknown', payload: {}, at: 2 }, { seq: 8, message: 'progress', payload: { pct: 90 }, at: 3 }] }));
    await vi.waitFor(() => expect(seen).toEqual([50, 90]));
    await settle();
    expect(task.state.data.pct).toBe(90);
    fake.push(statusOf('v3', { messages: [...fake.state.server.messages, { seq: 9, message: 'cancelled', payload: {}, at: 4 }] }));
    await vi.waitFor(() => expect(task.state.status).toBe('aborted'));
    expect(task.state.reason).toBe('cancelled by the warehouse');
    expect(seen).toEqual([50, 90]);
    unfollow();
  });

  it('a handler returning data completes the step with it', async () => {
    const fake = fakeClient(statusOf('v1', { messages: [{ seq: 1, message: 'approved', payload: { by: 'ada' }, at: 1 }] }));
    const task = track(await startTask(build(fake.client, { approved: (p) => ({ approvedBy: p.by }) }), { data: { order: { instanceId: 'i1' } } }));
    expect(task.state.step?.id).toBe('done');
    expect(task.state.data.approvedBy).toBe('ada');
  });

  it('keeps waiting while the server is unreachable, and fails on an automation error', async () => {
    const fake = fakeClient();
    fake.client.status.mockRejectedValueOnce(new SyncError('unreachable', 'offline', 0));
    const task = track(await startTask(build(fake.client), { data: { order: { instanceId: 'i1' } } }));
    expect(task.state.status).toBe('suspended');
    fake.state.server = statusOf('v2', { status: 'error' });
    await task.resume();
    expect(task.state.step?.kind).toBe('auto');
    expect(task.state.error?.message).toContain('stopped with an error');
    fake.state.server = statusOf('v3', { status: 'finished', nodes: [] });
    await task.retry();
    expect(task.state.step?.id).toBe('done');
  });

  it('fails when the instance finished without satisfying until', async () => {
    const fake = fakeClient(statusOf('v1', { status: 'finished', nodes: [] }));
    const wait = awaitAutomation({ id: 'wait', title: 'Wait', client: fake.client, instance: () => 'i1', until: (s) => s.data.shipped === true });
    const task = track(await startTask(defineFlow({ id: 'f', title: 'F', children: [wait, action({ id: 'done', title: 'Done' })] })));
    expect(task.state.step?.id).toBe('wait');
    expect(task.state.error?.message).toContain('finished without reaching what this step waits for');
  });

  it('unfollow stops the watch', async () => {
    const fake = fakeClient();
    const task = track(await startTask(build(fake.client), { data: { order: { instanceId: 'i1' } } }));
    const unfollow = followAutomations(task, fake.client);
    expect(fake.watching()).toEqual(['i1']);
    unfollow();
    expect(fake.watching()).toEqual([]);
  });
});

describe('automationForm', () => {
  const schema = z.object({ decision: z.enum(['approve', 'reject']), note: z.string().max(20, 'At most 20 characters').optional() });
  const submitForm = vi.fn<AutomationClient['submitForm']>();
  const flow = automationForm({ id: 'approve', title: 'Approve the order', schema, client: { submitForm } });
  const detail = { instanceId: 'i1', taskId: 4, node: 'approve', description: 'Approve', since: 0, automation: 'Order', verboseName: 'Order', hoursWaiting: 2.5, data: { order: { total: 30 } } };

  it('carries the form and its data, and completes with the instance', async () => {
    submitForm.mockResolvedValueOnce(statusOf('v2', { nodes: ['ship'] }));
    const task = track(await openFormTask(flow, detail));
    expect(flow.id).toBe('automation-form-approve');
    expect(task.state.data).toEqual({ order: { total: 30 }, form: { instanceId: 'i1', taskId: 4 } });
    expect(await task.submit({ decision: 'approve' })).toEqual({ ok: true });
    expect(submitForm).toHaveBeenLastCalledWith('i1', 4, { decision: 'approve' });
    expect(task.state.status).toBe('completed');
    expect((task.state.data.instance as { nodes: string[] }).nodes).toEqual(['ship']);
  });

  it('validates with the same schema before posting', async () => {
    submitForm.mockClear();
    const task = track(await openFormTask(flow, detail));
    const result = await task.submit({ decision: 'maybe' });
    expect(result.ok).toBe(false);
    expect(submitForm).not.toHaveBeenCalled();
  });

  it('maps 422 to field errors, and keeps a 403 or 409 as the task error with its SyncError as the cause', async () => {
    const task = track(await openFormTask(flow, detail));
    submitForm.mockRejectedValueOnce(new SyncError('invalid-input', 'Some fields need your attention.', 422, { note: ['Not allowed'] }));
    expect(await task.submit({ decision: 'reject', note: 'x' })).toMatchObject({ ok: false, errors: { note: ['Not allowed'] } });
    submitForm.mockRejectedValueOnce(new SyncError('form-forbidden', 'Only managers may approve.', 403));
    expect(await task.submit({ decision: 'reject' })).toMatchObject({ ok: false, errors: {} });
    expect(task.state.error).toMatchObject({ code: 'action-failed', cause: { code: 'form-forbidden', message: 'Only managers may approve.' } });
    submitForm.mockRejectedValueOnce(new SyncError('form-closed', 'closed', 409));
    expect(await task.submit({ decision: 'reject' })).toMatchObject({ ok: false });
    expect(task.state.error).toMatchObject({ code: 'action-failed', cause: { code: 'form-closed' } });
    expect(task.state.step?.id).toBe('approve');
  });
});
