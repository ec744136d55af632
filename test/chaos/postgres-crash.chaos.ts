import { type ChildProcess, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAutomationRunner, FlowControl, systemClock } from '../../src/automations/index.ts';
import { type SqlAutomationStorage, sqlAutomationStorage } from '../../src/server/automations/index.ts';
import { isDatabaseUnavailable } from '../../src/server/outage.ts';
import { postgresDatabase } from '../../src/server/postgres.ts';
import { type EmbeddedPostgres, installedPostgresBinaries, startEmbeddedPostgres } from '../helpers/embedded-postgres.mjs';
import { bundleForProcesses } from '../helpers/process-bundle.ts';
import { chaos, chaosFlow } from './fixtures/chaos-automations.ts';

/**
 * PostgreSQL crashed (`pg_ctl stop -m immediate`) every 2.5 to 4 s, down 0.3 to 0.8 s, for
 * LOAD_MS, on a cluster of this test's own, while two `wayflow scheduler` processes and one
 * `wayflow serve --automations` run instances of `Chaos` (timers, a transactional effect per
 * node, one message each), a quarter started over HTTP with an Idempotency-Key, the others
 * created straight on the database, and every instance poked over HTTP with an
 * Idempotency-Key, every request retried until it is answered.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const SCHEMA = 'chaos';
const INSTANCES = 200;
const LOAD_MS = 40_000;
const NODES = ['s1', 's2', 's3', 's4'];
/** Flowcontrol runs of `ChaosFlow`, created straight on the database during the load, and their working actions. */
const RUNS = 50;
const ACTIONS = ['f1', 'f2', 'f3'];
/** Goal of issue 19: the first step after the database accepts connections again, within a second. */
const RECOVERY_GOAL_MS = 1000;

interface Running {
  name: string;
  child: ChildProcess;
  /** The JSON log lines it wrote. */
  lines: { level: string; msg: string; [field: string]: unknown }[];
  stderr: string;
  exits: { code: number | null; signal: string | null }[];
}

let cluster: EmbeddedPostgres;
let admin: pg.Pool;
let work: string;
const processes: Running[] = [];

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const between = (low: number, high: number) => low + Math.random() * (high - low);

beforeAll(async () => {
  cluster = await startEmbeddedPostgres({ binaries: await installedPostgresBinaries(), crashSafe: true });
  admin = new pg.Pool({ connectionString: cluster.url, max: 2, options: `-c search_path=${SCHEMA}` });
  admin.on('error', () => undefined);
  await admin.query(`CREATE SCHEMA ${SCHEMA}`);
  const at = '(extract(epoch FROM clock_timestamp()) * 1000)::double precision';
  await admin.query(`CREATE TABLE chaos_effects (key text NOT NULL, instance_id text NOT NULL, node text NOT NULL, pid integer NOT NULL, at double precision NOT NULL DEFAULT ${at})`);
  await admin.query(`CREATE TABLE chaos_received (instance_id text NOT NULL, pid integer NOT NULL, at double precision NOT NULL DEFAULT ${at})`);
  work = await bundleForProcesses('wayflow-chaos-', {
    cli: join(ROOT, 'src/server/cli.ts'),
    main: join(ROOT, 'src/server/automations/main.ts'),
    chaos: join(import.meta.dirname, 'fixtures/chaos-automations.ts'),
  });
});

afterAll(async () => {
  for (const { child } of processes) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await admin?.end().catch(() => undefined);
  await cluster?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Starts a wayflow process on the test cluster; resolves with its start line. */
async function startProcess(name: string, args: string[], ready: string): Promise<Running & { started: Record<string, unknown> }> {
  const child = spawn(process.execPath, args, { env: { ...process.env, DATABASE_URL: cluster.url }, stdio: ['ignore', 'pipe', 'pipe'] });
  const running: Running = { name, child, lines: [], stderr: '', exits: [] };
  processes.push(running);
  child.on('exit', (code, signal) => running.exits.push({ code, signal }));
  child.stderr!.on('data', (chunk: Buffer) => {
    running.stderr += chunk.toString();
  });
  let buffered = '';
  const started = new Promise<Record<string, unknown>>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not start: ${running.stderr}`)), 60_000);
    child.once('exit', (code) => fail(new Error(`${name} exited with ${code}: ${running.stderr}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const entry = JSON.parse(line) as Running['lines'][number];
        running.lines.push(entry);
        if (entry.msg === ready) {
          clearTimeout(timer);
          done(entry);
        }
      }
    });
  });
  return { ...running, started: await started };
}

/** An HTTP request retried, with the same headers (the same Idempotency-Key), until the server answers it. */
async function until200(url: string, init: RequestInit, counters: { retries: number; unavailable: number }): Promise<unknown> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    let wait = 100;
    try {
      const response = await fetch(url, init);
      if (response.status === 200 || response.status === 201) return await response.json();
      if (response.status !== 503) throw new Error(`${init.method} ${url} answered ${response.status}: ${await response.text()}`);
      counters.unavailable += 1;
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('database-unavailable');
      wait = Number(response.headers.get('retry-after')) * 1000;
    } catch (error) {
      // A connection the server closed while the answer was on its way: the request may have been done; the key makes that safe.
      if (!(error instanceof TypeError)) throw error;
    }
    if (Date.now() > deadline) throw new Error(`${init.method} ${url} was not answered within 60 s`);
    counters.retries += 1;
    await sleep(wait);
  }
}

/** Creates the instance for `ref` straight on the database, retried until acknowledged (the automation is unique per ref). */
async function createDirectly(runner: ReturnType<typeof createAutomationRunner>, ref: string, counters: { retries: number }): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return (await runner.create(chaos, { ref }, { autorun: false })).id;
    } catch (error) {
      if (!isDatabaseUnavailable(error) || Date.now() > deadline) throw error;
      counters.retries += 1;
      await sleep(100);
    }
  }
}

/** Creates a flow run with the state `{ ref }` unless one with it exists (a create whose answer was lost may have committed), retrying while the database is unavailable. */
async function createRunDirectly(control: FlowControl, ref: string, counters: { retries: number }): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const existing = (await control.runsForObject(ref)).at(0);
      if (existing) return existing.id;
      return (await control.createRun('ChaosFlow', { objectId: ref }))!.id;
    } catch (error) {
      if (!isDatabaseUnavailable(error) || Date.now() > deadline) throw error;
      counters.retries += 1;
      await sleep(100);
    }
  }
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)]!;

describe('PostgreSQL crashing under load', () => {
  it('crashes no process, loses nothing, doubles no step or message, makes one instance per key, and resumes within a second', async () => {
    const module = join(work, 'chaos.mjs');
    const common = ['--automations', module, '--schema', SCHEMA, '--log-level', 'info'];
    const schedulerArgs = [join(work, 'main.mjs'), 'scheduler', ...common, '--claim-timeout', '2000', '--batch', '10'];
    const [server] = await Promise.all([
      startProcess('server', [join(work, 'cli.mjs'), 'serve', '--port', '0', '--write-rate', '100000', ...common], 'wayflow serve started'),
      startProcess('scheduler 1', schedulerArgs, 'wayflow scheduler started'),
      startProcess('scheduler 2', schedulerArgs, 'wayflow scheduler started'),
    ]);
    const url = server.started.url as string;

    // The test process is a client: over HTTP, and another process creating instances straight on the database.
    const pool = new pg.Pool({ connectionString: cluster.url, max: 4, options: `-c search_path=${SCHEMA}` });
    pool.on('error', () => undefined);
    const storage: SqlAutomationStorage = await sqlAutomationStorage(postgresDatabase(pool));
    const runner = createAutomationRunner({ storage, clock: systemClock, automations: [chaos] });
    const control = new FlowControl({ store: storage, clock: systemClock, flows: [chaosFlow] });
    const runs = new Map<string, string>();
    const headers = { authorization: 'Bearer chaos', 'content-type': 'application/json' };
    const counters = { retries: 0, unavailable: 0 };
    const acknowledged = new Map<string, string>();
    const startedAt = Date.now();
    let loadDone = false;

    const client = async (worker: number, workers: number) => {
      for (let i = worker; i < INSTANCES; i += workers) {
        await sleep(Math.max(0, startedAt + (i * LOAD_MS) / INSTANCES - Date.now()));
        const ref = `ref-${i}`;
        let id: string;
        if (i % 4 === 0) {
          const body = JSON.stringify({ input: { ref } });
          const answer = (await until200(`${url}/automations/start/Chaos`, { method: 'POST', headers: { ...headers, 'idempotency-key': `start:${ref}` }, body }, counters)) as {
            instance: { id: string };
          };
          id = answer.instance.id;
        } else {
          id = await createDirectly(runner, ref, counters);
        }
        acknowledged.set(ref, id);
        await until200(`${url}/automations/instances/${id}/messages/poke`, { method: 'POST', headers: { ...headers, 'idempotency-key': `poke:${ref}` }, body: '{}' }, counters);
      }
    };
    const outages: { crashedAt: number; readyAt: number }[] = [];
    const crashes = async () => {
      while (!loadDone) {
        await sleep(between(2500, 4000));
        if (loadDone) break;
        const crashedAt = Date.now();
        await cluster.crash();
        await sleep(between(300, 800));
        outages.push({ crashedAt, readyAt: await cluster.restart() });
      }
    };
    const flowClient = async () => {
      for (let i = 0; i < RUNS; i++) {
        await sleep(Math.max(0, startedAt + (i * LOAD_MS) / RUNS - Date.now()));
        runs.set(`run-${i}`, await createRunDirectly(control, `run-${i}`, counters));
      }
    };
    const crashing = crashes();
    await Promise.all([...Array.from({ length: 8 }, (_, worker) => client(worker, 8)), flowClient()]);
    loadDone = true;
    await crashing;

    const count = async (sql: string) => Number((await admin.query<{ n: string }>(sql)).rows[0]!.n);
    const deadline = Date.now() + 60_000;
    while ((await count('SELECT count(*) AS n FROM wayflow_automation_instances WHERE NOT finished')) > 0) {
      if (Date.now() > deadline) throw new Error('Not every instance and flow run finished within 60 s of the last crash.');
      await sleep(200);
    }
    await storage.close();

    // No process exited, and none wrote a stack.
    for (const running of processes) {
      expect(running.exits, `${running.name} exited`).toEqual([]);
      expect(running.stderr, `${running.name} wrote to stderr`).toBe('');
      expect(running.lines.filter((line) => line.msg === 'unhandled error' || 'stack' in line)).toEqual([]);
    }
    // Nothing lost, one instance per ref and per idempotency key.
    const instances = (
      await admin.query<{ id: string; ref: string; finished: boolean }>("SELECT id, state::json->'data'->>'ref' AS ref, finished FROM wayflow_automation_instances WHERE kind = 'automation'")
    ).rows;
    expect(instances).toHaveLength(INSTANCES);
    expect(new Map(instances.map((row) => [row.ref, row.id]))).toEqual(acknowledged);
    const links = (await admin.query<{ key: string; n: string }>("SELECT idempotency_key AS key, count(DISTINCT instance_id) AS n FROM wayflow_sync_links WHERE idempotency_key LIKE 'start:%' GROUP BY 1")).rows;
    expect(links).toHaveLength(INSTANCES / 4);
    expect(links.every((row) => row.n === '1')).toBe(true);
    // Every node's effect exactly once, every message delivered exactly once, the outbox empty.
    const effects = (await admin.query<{ instance_id: string; node: string; n: string }>('SELECT instance_id, node, count(*) AS n FROM chaos_effects GROUP BY 1, 2')).rows;
    expect(effects).toHaveLength(INSTANCES * NODES.length + RUNS * ACTIONS.length);
    expect(effects.filter((row) => row.n !== '1')).toEqual([]);
    // Every flow run (one per object) done, each of its actions exactly once (above), in order.
    const flowRuns = (await admin.query<{ id: string; object_id: string; state: string }>("SELECT id, object_id, state FROM wayflow_automation_instances WHERE kind = 'flow'")).rows;
    expect(new Map(flowRuns.map((row) => [row.object_id, row.id]))).toEqual(runs);
    for (const row of flowRuns) {
      const run = JSON.parse(row.state) as { status: string; log: { action: string }[] };
      expect(run.status).toBe('done');
      expect(run.log.map((entry) => entry.action)).toEqual(['f1', 'pause', ...ACTIONS.slice(1)]);
    }
    const received = (await admin.query<{ instance_id: string; n: string }>('SELECT instance_id, count(*) AS n FROM chaos_received GROUP BY 1')).rows;
    expect(received).toHaveLength(INSTANCES);
    expect(received.filter((row) => row.n !== '1')).toEqual([]);
    expect(await count('SELECT count(*) AS n FROM wayflow_automation_messages')).toBe(0);

    // Time from the database accepting connections again to the first step committed.
    const recoveries: number[] = [];
    for (const [index, outage] of outages.entries()) {
      const next = outages[index + 1]?.crashedAt ?? Number.MAX_SAFE_INTEGER;
      const { rows } = await admin.query<{ at: number | null }>('SELECT min(at) AS at FROM chaos_effects WHERE at >= $1 AND at < $2', [outage.readyAt, next]);
      recoveries.push(rows[0]!.at === null ? Number.POSITIVE_INFINITY : rows[0]!.at - outage.readyAt);
    }
    const outageLines = processes.map((running) => ({
      process: running.name,
      unavailable: running.lines.filter((line) => line.msg.startsWith('database unavailable')).length,
      back: running.lines.filter((line) => line.msg === 'database available again').length,
    }));
    const summary = {
      crashes: outages.length,
      instances: INSTANCES,
      retries: counters.retries,
      answered503: counters.unavailable,
      recoveryMs: { p50: Math.round(percentile(recoveries, 50)), p99: Math.round(percentile(recoveries, 99)), max: Math.round(Math.max(...recoveries)) },
      outageLines,
      seconds: Math.round((Date.now() - startedAt) / 1000),
    };
    console.log(`chaos: ${JSON.stringify(summary)}`);
    expect(outages.length).toBeGreaterThanOrEqual(5);
    expect(counters.unavailable).toBeGreaterThan(0);
    expect(percentile(recoveries, 99)).toBeLessThan(RECOVERY_GOAL_MS);
    // One line when an outage begins and one when it ends, per process: never more lines than outages.
    for (const lines of outageLines) {
      expect(lines.unavailable).toBeGreaterThan(0);
      expect(lines.unavailable).toBeLessThanOrEqual(outages.length);
      expect(lines.back).toBe(lines.unavailable);
    }
  });
});
