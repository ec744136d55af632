import { describe, expect, it } from 'vitest';
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
  it('logs one line when an outage begins and one when an operation begun after it succeeds', () => {
    const log: LogEntry[] = [];
    const outage = outageMonitor((entry) => void log.push(entry));
    const before = performance.now();
    expect(outage.failed(new TypeError('a bug'))).toBe(false);
    expect(outage.down).toBe(false);
    for (let i = 0; i < 5; i++) expect(outage.failed(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))).toBe(true);
    expect(outage.down).toBe(true);
    // An answer to a request sent before the outage says nothing about now.
    outage.succeeded(before);
    expect(outage.down).toBe(true);
    outage.succeeded(performance.now());
    expect(outage.down).toBe(false);
    outage.succeeded(performance.now());
    expect(log).toEqual([
      { level: 'warn', msg: expect.stringMatching(/^database unavailable/), error: 'connect ECONNREFUSED 127.0.0.1:5432', code: 'ECONNREFUSED' },
      { level: 'info', msg: 'database available again', downMs: expect.any(Number) },
    ]);
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
