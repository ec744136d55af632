import { afterEach, describe, expect, it, vi } from 'vitest';
import { jsonLogger, type LogEntry, silentLogger } from '../../src/server/log.ts';
import { requestLog } from '../../src/server/request-log.ts';
import { Hono } from 'hono';
import { answerHeaders } from '../../src/server/answer-headers.ts';

afterEach(() => vi.restoreAllMocks());

describe('jsonLogger', () => {
  it('says which levels it keeps, so callers can skip building the entries it drops', () => {
    const lines: string[] = [];
    const logger = jsonLogger({ level: 'warn', write: (line) => lines.push(line) });
    expect((['debug', 'info', 'warn', 'error'] as const).map((level) => logger.enabled?.(level))).toEqual([false, false, true, true]);
    logger({ level: 'info', msg: 'dropped' });
    logger({ level: 'error', msg: 'kept', n: 1 });
    expect(lines.map((line) => JSON.parse(line))).toEqual([{ time: expect.any(String), level: 'error', msg: 'kept', n: 1 }]);
    expect(silentLogger.enabled?.('error')).toBe(false);
  });

  it('writes the lines of one turn of the event loop to stdout in one write, in order', async () => {
    const writes: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    const logger = jsonLogger();
    logger({ level: 'info', msg: 'one' });
    logger({ level: 'info', msg: 'two' });
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(1);
    expect(writes[0]!.trimEnd().split('\n').map((line) => (JSON.parse(line) as LogEntry).msg)).toEqual(['one', 'two']);
  });
});

describe('requestLog', () => {
  it('builds no entry for a level the logger drops, and one per answer for a level it keeps', async () => {
    const entries: LogEntry[] = [];
    const logger = Object.assign((entry: LogEntry) => void entries.push(entry), { enabled: (level: string) => level !== 'info' });
    const app = new Hono().use(answerHeaders()).use(requestLog(logger));
    app.get('/ok', (c) => c.json({ ok: true }));
    app.get('/tasks/:id', (c) => c.json({ missing: true }, 404));
    await app.request('http://app.test/ok');
    await app.request('http://app.test/tasks/secret-id');
    expect(entries).toEqual([{ level: 'warn', msg: 'request', requestId: expect.any(String), method: 'GET', path: '/tasks/:id', status: 404, ms: expect.any(Number) }]);
  });
});
