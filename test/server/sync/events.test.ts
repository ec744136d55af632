import { describe, expect, it, vi } from 'vitest';
import { createAutomationRunner } from '../../../src/automations/index.ts';
import { asSession, asUser, definitions, sseReader, startOrder, syncTestEnv } from './helpers.ts';

const env = syncTestEnv({
  /** Pushes only (no polling to speak of), long idle time. */
  push: { pollMs: 60_000, streamIdleMs: 60_000 },
  /** Fast polling, short idle time and heartbeat. */
  quick: { pollMs: 100, streamIdleMs: 400, heartbeatMs: 50 },
  /** An idle time past Node's 24.8-day timer limit (as an idle timeout of 30 days gives). */
  patient: { pollMs: 60_000, streamIdleMs: 30 * 24 * 3600 * 1000, heartbeatMs: 50 },
});
const push = env.fetcher('push');
const quick = env.fetcher('quick');
const approve = (instance: { id: string; forms: { taskId: number }[] }, fetcher = push) =>
  asUser(fetcher, 'bo').post(`/automations/forms/${instance.id}/${instance.forms[0]!.taskId}`, { input: { decision: 'approve', note: 'Ship it' } });

describe('GET /automations/instances/:id/events', () => {
  it('sends the current status at once, pushes the change of a form submission within 500 ms (the poll is 60 s), then the final status and end', async () => {
    const shopper = asSession(push);
    const instance = await startOrder(shopper);
    const response = await shopper.get(`/automations/instances/${instance.id}/events`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const events = sseReader(response);
    const first = await events.next();
    expect(first).toMatchObject({ event: 'status', id: instance.version });
    expect(JSON.parse(first!.data!)).toEqual(instance);

    const submitted = await approve(instance);
    expect(submitted.status).toBe(200);
    const answeredAt = Date.now();
    const pushed = await events.status(1000);
    expect(Date.now() - answeredAt).toBeLessThan(500);
    const final = (await submitted.json()).instance;
    // Intermediate statuses may come first; the last one is the final status.
    let last = pushed;
    while (last.version !== final.version) last = await events.status(1000);
    expect(last).toMatchObject({ status: 'finished', messages: [{ message: 'approved', payload: { note: 'Ship it' } }] });
    expect(await events.next()).toMatchObject({ event: 'end' });
    expect(await events.next()).toBeNull();
  });

  it('skips the first status when Last-Event-ID is its version, and ends at once for a finished instance', async () => {
    const shopper = asSession(push);
    const instance = await startOrder(shopper);
    const events = sseReader(await shopper.get(`/automations/instances/${instance.id}/events`, { 'last-event-id': instance.version }));
    await shopper.post(`/automations/instances/${instance.id}/messages/note`, { payload: { note: 'hi' } });
    const next = await events.status(1000);
    expect(next.data).toMatchObject({ note: 'hi' });
    await events.cancel();

    await approve(instance);
    const after = sseReader(await shopper.get(`/automations/instances/${instance.id}/events`));
    expect(await after.status()).toMatchObject({ status: 'finished' });
    expect(await after.next()).toMatchObject({ event: 'end' });
    expect(await after.next()).toBeNull();
  });

  it('sees changes made by another process by polling (one poller per instance)', async () => {
    const shopper = asSession(quick);
    const instance = await startOrder(shopper);
    const a = sseReader(await shopper.get(`/automations/instances/${instance.id}/events`));
    const b = sseReader(await asUser(quick, 'viewer').get(`/automations/instances/${instance.id}/events`));
    await a.status();
    await b.status();
    // Another process: a runner on the same database whose effects this app never hears of.
    const other = createAutomationRunner({ storage: env.running.storage, automations: definitions });
    await other.sendMessage(instance.id, 'note', undefined, { note: 'from elsewhere' });
    expect((await a.status(1000)).data).toMatchObject({ note: 'from elsewhere' });
    expect((await b.status(1000)).data).toMatchObject({ note: 'from elsewhere' });
    await a.cancel();
    await b.cancel();
  });

  it('sends heartbeats, then idle and closes after the idle time without change', async () => {
    const shopper = asSession(quick);
    const instance = await startOrder(shopper);
    const events = sseReader(await shopper.get(`/automations/instances/${instance.id}/events`));
    await events.status();
    expect(await events.next({ comments: true, timeoutMs: 300 })).toEqual({ comment: 'heartbeat' });
    const started = Date.now();
    expect(await events.next({ timeoutMs: 2000 })).toMatchObject({ event: 'idle' });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await events.next()).toBeNull();
  });

  it('keeps a stream open when its idle time is longer than the 24.8 days a Node timer holds', async () => {
    const shopper = asSession(env.fetcher('patient'));
    const instance = await startOrder(shopper);
    const events = sseReader(await shopper.get(`/automations/instances/${instance.id}/events`));
    await events.status();
    for (let i = 0; i < 3; i++) expect(await events.next({ comments: true, timeoutMs: 1000 })).toEqual({ comment: 'heartbeat' });
    await events.cancel();
  });

  it('allows 4 streams per session: the fifth is 429 too-many-streams; closing one frees its slot; foreign instances are 404', async () => {
    const shopper = asSession(push);
    const instance = await startOrder(shopper);
    const open = [];
    for (let i = 0; i < 4; i++) {
      const response = await shopper.get(`/automations/instances/${instance.id}/events`);
      expect(response.status).toBe(200);
      const events = sseReader(response);
      await events.status();
      open.push(events);
    }
    const refused = await shopper.get(`/automations/instances/${instance.id}/events`);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await refused.json()).toMatchObject({ error: { code: 'too-many-streams', message: expect.stringContaining('4') } });
    // Another session has its own slots; a foreign instance is 404 and takes none.
    const stranger = asSession(push);
    expect((await stranger.get(`/automations/instances/${instance.id}/events`)).status).toBe(404);

    await open[0]!.cancel();
    await vi.waitFor(async () => {
      const again = await shopper.get(`/automations/instances/${instance.id}/events`);
      expect(again.status).toBe(200);
      open[0] = sseReader(again);
    });
    for (const events of open) await events.cancel();
  });
});
