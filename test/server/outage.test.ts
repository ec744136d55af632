import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../src/server/app.ts';
import { StorageError } from '../../src/server/errors.ts';
import type { LogEntry } from '../../src/server/log.ts';
import { isDatabaseUnavailable, outageMonitor } from '../../src/server/outage.ts';
import type { TaskStorage } from '../../src/server/storage.ts';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it('recognises a database that is down, restarting, crashed or unreachable', () => {
    const unavailable = [
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      withCode('read ECONNRESET', 'ECONNRESET'),
      withCode('terminating connection due to administrator command', '57P01'),
      withCode('terminating connection because of crash of another server process', '57P02'),
      withCode('the database system is starting up', '57P03'),
      withCode('sorry, too many clients already', '53300'),
      withCode('connection failure', '08006'),
      new Error('Connection terminated unexpectedly'),
      new Error('Client has encountered a connection error and is not queryable'),
      new Error('timeout exceeded when trying to connect'),
      new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], ''),
      new StorageError('Cannot use PostgreSQL', withCode('connect ECONNREFUSED', 'ECONNREFUSED')),
    ];
    for (const error of unavailable) expect(isDatabaseUnavailable(error), error.message).toBe(true);
  });

  it('leaves other failures alone: constraint violations, syntax errors, bugs, non-errors', () => {
    const others = [
      withCode('duplicate key value violates unique constraint', '23505'),
      withCode('syntax error at or near "SELEC"', '42601'),
      withCode('could not serialize access', '40001'),
      new TypeError('Cannot read properties of undefined'),
      'Connection terminated unexpectedly',
      null,
      undefined,
    ];
    for (const error of others) expect(isDatabaseUnavailable(error), String(error)).toBe(false);
  });
});

describe('outageMonitor', () => {
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
  afterEach(() => void vi.useRealTimers());
  const refused = withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED');
  const monitor = () => {
    const log: LogEntry[] = [];
    return { log, outage: outageMonitor((entry) => void log.push(entry)), msgs: () => log.map((entry) => entry.msg) };
  };

  it('logs one line when an outage begins and one once operations begun after it have gone on succeeding for 250 ms', () => {
    const { log, outage } = monitor();
    const before = performance.now();
    vi.advanceTimersByTime(10);
    expect(outage.failed(new TypeError('a bug'))).toBe(false);
    expect(outage.down).toBe(false);
    for (let i = 0; i < 5; i++) expect(outage.failed(refused)).toBe(true);
    expect(outage.down).toBe(true);
    // An answer to a request sent before the outage says nothing about now.
    outage.succeeded(before);
    expect(outage.down).toBe(true);
    vi.advanceTimersByTime(840);
    outage.succeeded(performance.now());
    expect(outage.down).toBe(false);
    vi.advanceTimersByTime(249);
    outage.succeeded(performance.now());
    expect(log).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(log).toEqual([
      { level: 'warn', msg: expect.stringMatching(/^database unavailable/), error: 'connect ECONNREFUSED 127.0.0.1:5432', code: 'ECONNREFUSED' },
      { level: 'info', msg: 'database available again', downMs: 840 },
    ]);
  });

  it('keeps the outage going when a connection answers while the database crashes and the next one fails', () => {
    const { outage, msgs } = monitor();
    outage.failed(new Error('Connection terminated unexpectedly'), performance.now());
    // One backend is gone; another, not yet stopped, answers a statement sent after that.
    vi.advanceTimersByTime(7);
    outage.succeeded(performance.now());
    vi.advanceTimersByTime(26);
    expect(outage.failed(new Error('Connection terminated unexpectedly'), performance.now())).toBe(true);
    expect(outage.down).toBe(true);
    vi.advanceTimersByTime(1500);
    outage.succeeded(performance.now());
    vi.advanceTimersByTime(250);
    expect(msgs()).toEqual([expect.stringMatching(/^database unavailable/), 'database available again']);
  });

  it('counts a failure read after the database came back, of an operation begun before, in the outage that ended', () => {
    const { log, outage, msgs } = monitor();
    outage.failed(refused, performance.now());
    vi.advanceTimersByTime(500);
    // A connection attempt made while the database was starting up, its refusal read after the outage was over.
    const straggler = performance.now();
    vi.advanceTimersByTime(5);
    outage.succeeded(performance.now());
    vi.advanceTimersByTime(300);
    expect(outage.failed(withCode('the database system is starting up', '57P03'), straggler)).toBe(true);
    expect(outage.down).toBe(false);
    expect(msgs()).toEqual([expect.stringMatching(/^database unavailable/), 'database available again']);
    expect(log[1]).toMatchObject({ downMs: 505 });
    // An operation begun after the outage ended that fails is a new outage; so is a failure with no start (a lost idle connection).
    expect(outage.failed(withCode('read ECONNRESET', 'ECONNRESET'), performance.now())).toBe(true);
    expect(outage.down).toBe(true);
    vi.advanceTimersByTime(100);
    outage.succeeded(performance.now());
    vi.advanceTimersByTime(250);
    expect(outage.failed(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(msgs()).toEqual([
      expect.stringMatching(/^database unavailable/),
      'database available again',
      expect.stringMatching(/^database unavailable/),
      'database available again',
      expect.stringMatching(/^database unavailable/),
    ]);
  });

  it('waits as long as settleMs says', () => {
    const log: LogEntry[] = [];
    const outage = outageMonitor((entry) => void log.push(entry), { settleMs: 1000 });
    outage.failed(refused);
    vi.advanceTimersByTime(1);
    outage.succeeded(performance.now());
    vi.advanceTimersByTime(999);
    expect(log).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(log.map((entry) => entry.msg)).toEqual([expect.stringMatching(/^database unavailable/), 'database available again']);
  });
});

describe('the API when the database is unavailable', () => {
  const failing = (error: unknown): TaskStorage =>
    new Proxy({} as TaskStorage, {
      get: (_target, prop) => (prop === 'secret' ? async () => 'a-session-secret-of-some-length' : async () => Promise.reject(error)),
    });
  const list = (storage: TaskStorage, log: LogEntry[]) =>
    createApp({ storage, logger: (entry) => void log.push(entry) }).request('/tasks', { headers: { 'wayflow-binder': 'binder-a' } });

  it('answers 503 database-unavailable with Retry-After, and logs no stack', async () => {
    const log: LogEntry[] = [];
    const response = await list(failing(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')), log);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toEqual({ error: { code: 'database-unavailable', message: expect.stringContaining('Retry after') } });
    expect(log.filter((entry) => 'stack' in entry)).toEqual([]);
    expect(log).toEqual([expect.objectContaining({ level: 'warn', msg: 'request', status: 503 })]);
  });

  it('still answers other failures with 500 internal and logs their stack', async () => {
    const log: LogEntry[] = [];
    const response = await list(failing(new TypeError('a bug')), log);
    expect(response.status).toBe(500);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('internal');
    expect(log.filter((entry) => 'stack' in entry)).toHaveLength(1);
  });
});
