import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/core/store.ts';
import { DATABASE_URL } from '../helpers/database-url.ts';
import { makeRecord } from '../persist/contract.ts';
import { bundleCli, serveProcess, started } from './fixtures/cli.ts';

const ORIGIN = 'http://client.test';
let work: string;
let cli: string;
/** Every server process started, so none outlives the tests. */
const children = new Set<ChildProcess>();

beforeAll(async () => {
  ({ work, cli } = await bundleCli('wayflow-fault-'));
});
afterAll(async () => {
  await Promise.all([...children].map(kill));
  if (work) await rm(work, { recursive: true, force: true });
});

/** Starts `wayflow serve` as a real process; resolves when it listens. */
async function startServer(args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const serveArgs = ['--port', '0', '--write-rate', '100000', '--read-rate', '100000', '--client-rate', '100000', '--origin', ORIGIN, '--log-level', 'warn', ...args];
  // DATABASE_URL only where a test passes it: one set in the shell must not turn the PGlite runs into PostgreSQL runs.
  return started(await serveProcess(cli, serveArgs, children, { DATABASE_URL: '', ...env }));
}

async function kill(child: ChildProcess) {
  if (child.exitCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGKILL');
  await exited;
}

/** A client with its own session cookie. */
function client() {
  let cookie: string | null = null;
  return async (url: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (cookie) headers.set('cookie', cookie);
    headers.set('origin', ORIGIN);
    const response = await fetch(url, { ...init, headers });
    const set = response.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0]!;
    return response;
  };
}

const TASKS = ['AAAAAAAAAAAAAAAAAAAAAA', 'BBBBBBBBBBBBBBBBBBBBBB', 'CCCCCCCCCCCCCCCCCCCCCC', 'DDDDDDDDDDDDDDDDDDDDDD'];

interface Ledger {
  /** The last write of each task the server acknowledged. */
  acked: Map<string, TaskRecord>;
  /** A write of each task that was sent but got no answer (the kill cut it). */
  inFlight: Map<string, TaskRecord>;
}

/** Writes versions 1, 2, 3… of each task round-robin until the server stops answering. */
async function burst(send: ReturnType<typeof client>, url: string, name: string, counter: { writes: number }): Promise<Ledger> {
  const ledger: Ledger = { acked: new Map(), inFlight: new Map() };
  for (let round = 1; ; round++) {
    for (const id of TASKS) {
      // Payloads of varying size, so a torn write could not pass for a whole one.
      const record = makeRecord({
        id,
        version: round,
        binder: name,
        data: { client: name, round, payload: `${name}:${round}:`.repeat(1 + ((round * 7) % 50)) },
        lastActiveAt: Date.now(),
        expiresAt: Date.now() + 3_600_000,
      });
      ledger.inFlight.set(id, record);
      let response: Response;
      try {
        response = await send(`${url}/tasks/${id}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json', 'wayflow-binder': name, 'if-match': `"${round - 1}"` },
          body: JSON.stringify(record),
        });
      } catch {
        return ledger;
      }
      if (response.status !== 200 && response.status !== 201) throw new Error(`write ${id}@${round} failed with ${response.status}: ${await response.text()}`);
      ledger.inFlight.delete(id);
      ledger.acked.set(id, record);
      counter.writes++;
    }
  }
}

async function faultRun(args: string[], env: Record<string, string> = {}) {
  let server = await startServer(args, env);
  const clients = [
    { name: 'left', send: client() },
    { name: 'right', send: client() },
  ];
  const counter = { writes: 0 };
  const bursts = clients.map(({ name, send }) => burst(send, server.url, name, counter));
  try {
    // Kill it mid-burst, once both clients are well under way; a client failing first fails the test.
    const underWay = (async () => {
      while (counter.writes < 400) await new Promise((tick) => setTimeout(tick, 5));
    })();
    await Promise.race([underWay, Promise.all(bursts).then(() => Promise.reject(new Error('the clients stopped before the kill')))]);
  } finally {
    await kill(server.child);
  }
  const ledgers = await Promise.all(bursts);
  server = await startServer(args, env);
  try {
    for (const [index, { name, send }] of clients.entries()) {
      const ledger = ledgers[index]!;
      for (const id of TASKS) {
        const acked = ledger.acked.get(id)!;
        expect(acked, `${name} acknowledged no write of ${id}`).toBeDefined();
        const response = await send(`${server.url}/tasks/${id}`, { headers: { 'wayflow-binder': name } });
        expect(response.status).toBe(200);
        const { task } = (await response.json()) as { task: TaskRecord };
        // Either the last acknowledged write, or the unanswered one applied whole; nothing older, nothing torn.
        const inFlight = ledger.inFlight.get(id);
        const candidates = inFlight ? [acked, inFlight] : [acked];
        expect(candidates, `${name}'s ${id} is at version ${task.version}`).toContainEqual(task);
      }
    }
    return counter.writes;
  } finally {
    await kill(server.child);
  }
}

describe('wayflow serve killed mid-burst', () => {
  it('on PGlite: keeps every acknowledged write and applies no unacknowledged one by halves', async () => {
    const writes = await faultRun(['--data', join(work, 'pglite-data')]);
    expect(writes).toBeGreaterThanOrEqual(400);
  });

  it('on PostgreSQL: keeps every acknowledged write and applies no unacknowledged one by halves', async () => {
    const schema = `wayflow_fault_${process.pid}`;
    try {
      const writes = await faultRun(['--schema', schema], { DATABASE_URL });
      expect(writes).toBeGreaterThanOrEqual(400);
    } finally {
      const admin = new pg.Client({ connectionString: DATABASE_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  });
});
