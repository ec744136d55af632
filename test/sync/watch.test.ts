import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { automationClient, watchInstance } from '../../src/sync/index.ts';
import type { InstanceStatus } from '../../src/sync/protocol.ts';
import { FakeEventSource, fakeEventSource, fakeFetch, statusOf } from './fakes.ts';

beforeEach(() => {
  vi.useFakeTimers();
  FakeEventSource.reset();
});
afterEach(() => vi.useRealTimers());

/** A client whose server answers `server.current`; returns what the watch delivered. */
function setup(options: { EventSource?: typeof EventSource | null; status?: number } = {}) {
  const server = { current: statusOf('v1') };
  const { fetch, calls } = fakeFetch(() => [options.status ?? 200, { instance: server.current }]);
  const client = automationClient({ fetch, EventSource: options.EventSource === undefined ? fakeEventSource : options.EventSource, pollMs: 5000 });
  const seen: string[] = [];
  const stop = client.watch('i1', (s) => seen.push(s.version));
  return { server, calls, seen, stop };
}

describe('watch', () => {
  it('delivers stream statuses, each version once', async () => {
    const { seen, calls } = setup();
    const es = FakeEventSource.last;
    expect(es.url).toBe('/automations/instances/i1/events');
    es.emit('status', statusOf('v1'));
    es.emit('status', statusOf('v1'));
    es.emit('status', statusOf('v2'));
    es.emit('status', 'not json');
    expect(seen).toEqual(['v1', 'v2']);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls()).toBe(0);
  });

  it('falls back to polling on a stream error (a 429), catching up at once, and reopens the stream with backoff', async () => {
    const { seen, calls, server } = setup();
    const first = FakeEventSource.last;
    first.emit('status', statusOf('v1'));
    server.current = statusOf('v2');
    first.emit('error');
    expect(first.closed).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls()).toBe(1);
    expect(seen).toEqual(['v1', 'v2']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeEventSource.instances).toHaveLength(2);
    FakeEventSource.last.emit('error'); // 429 again: next attempt waits 2 s
    await vi.advanceTimersByTimeAsync(1999);
    expect(FakeEventSource.instances).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeEventSource.instances).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(2000);
    const polled = calls();
    expect(polled).toBe(2);
    // The reopened stream delivers the catch-up status (already seen) and then news; polling stops.
    FakeEventSource.last.emit('status', statusOf('v2'));
    FakeEventSource.last.emit('status', statusOf('v3'));
    expect(seen).toEqual(['v1', 'v2', 'v3']);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls()).toBe(polled);
  });

  it('a reconnect delivers what changed while the stream was down', async () => {
    const { seen, server } = setup();
    FakeEventSource.last.emit('status', statusOf('v1'));
    FakeEventSource.last.emit('error');
    await vi.advanceTimersByTimeAsync(0);
    server.current = statusOf('v2', { nodes: ['ship'] });
    await vi.advanceTimersByTimeAsync(1000); // the stream reopens before the next poll
    FakeEventSource.last.emit('status', server.current);
    expect(seen).toEqual(['v1', 'v2']);
  });

  it('polls after idle until the stream comes back', async () => {
    const { seen, calls, server } = setup();
    FakeEventSource.last.emit('status', statusOf('v1'));
    FakeEventSource.last.emit('idle');
    expect(FakeEventSource.last.closed).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls()).toBe(1);
    server.current = statusOf('v2');
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeEventSource.instances).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(4000);
    expect(calls()).toBe(2);
    expect(seen).toEqual(['v1', 'v2']);
  });

  it('stops at end', async () => {
    const { seen, calls } = setup();
    const es = FakeEventSource.last;
    es.emit('status', statusOf('v1'));
    es.emit('end', statusOf('v2', { status: 'finished', nodes: [] }));
    es.emit('status', statusOf('v3'));
    expect(es.closed).toBe(true);
    expect(seen).toEqual(['v1', 'v2']);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls()).toBe(0);
    expect(FakeEventSource.instances).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('polls without EventSource, and stops once the instance finished', async () => {
    const { seen, calls, server } = setup({ EventSource: null });
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual(['v1']);
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls()).toBe(2);
    server.current = statusOf('v2', { status: 'finished' });
    await vi.advanceTimersByTimeAsync(5000);
    expect(seen).toEqual(['v1', 'v2']);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls()).toBe(3);
  });

  it('keeps polling through failed polls, telling onError', async () => {
    const errors: unknown[] = [];
    const status = vi.fn(async (): Promise<InstanceStatus> => {
      throw new Error('offline');
    });
    const stop = watchInstance({ url: '/e', status, EventSource: null }, () => undefined, { pollMs: 100, onError: (e) => errors.push(e) });
    await vi.advanceTimersByTimeAsync(250);
    expect(status).toHaveBeenCalledTimes(3);
    expect(errors).toHaveLength(3);
    stop();
  });

  it('polls when the stream cannot even be created', async () => {
    const Broken = class {
      constructor() {
        throw new SyntaxError('bad URL');
      }
    } as unknown as typeof EventSource;
    const { calls, seen } = setup({ EventSource: Broken });
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual(['v1']);
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls()).toBe(2);
  });

  it('stops polling an instance that is not visible (404)', async () => {
    const { calls, seen } = setup({ EventSource: null, status: 404 });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls()).toBe(1);
    expect(seen).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stop closes the stream and clears every timer', async () => {
    const { stop, calls } = setup();
    FakeEventSource.last.emit('idle');
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    stop();
    expect(vi.getTimerCount()).toBe(0);
    expect(FakeEventSource.instances.every((es) => es.closed)).toBe(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls()).toBe(1);
    expect(FakeEventSource.instances).toHaveLength(1);
  });

  it('delivers any sequence of versions with repeats dropped (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 30 }), (versions) => {
        FakeEventSource.reset();
        const seen: string[] = [];
        const stop = watchInstance({ url: '/e', status: async () => statusOf('x'), EventSource: fakeEventSource }, (s) => seen.push(s.version));
        for (const v of versions) FakeEventSource.last.emit('status', statusOf(v));
        stop();
        expect(seen).toEqual(versions.filter((v, i) => v !== versions[i - 1]));
      }),
    );
  });
});
