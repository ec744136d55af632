// The body of bench/automations.mjs, bundled by it (see there for what is measured).
import { type ChildProcess, spawn } from 'node:child_process';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { type AutomationRunner, createAutomationRunner, systemClock } from '../src/automations/index.ts';
import { type SqlAutomationStorage, sqlAutomationStorage, startAutomationScheduler } from '../src/server/automations/index.ts';
import { pgliteDatabase } from '../src/server/pglite.ts';
import { postgresDatabase } from '../src/server/postgres.ts';
import type { SqlDatabase } from '../src/server/sql.ts';
import { benchTimer } from './automations-defs.ts';

/** Settings the runner passes in. */
export interface BenchSettings {
  databaseUrl: string;
  /** Paths of the bundled scheduler entry and automations module. */
  mainPath: string;
  defsPath: string;
  /** The same two bundled from an older checkout (`BASELINE_ROOT`), for the `flow1` scenario's baseline; absent without one. */
  baseline?: { mainPath: string; defsPath: string; label: string };
  waiting: number;
  probes: number;
  windowMs: number;
  backlog: number;
  /** Backlog drains per database scenario (each a fresh backlog on the same processes); its steps/s is their median. */
  drainRounds: number;
  scenarios: string[];
  log: (line: string) => void;
}

/** One scenario's figures. */
export interface BenchResult {
  scenario: string;
  createPerSecond: number | null;
  stepsPerSecond: number;
  drainMs: number;
  backlog: number;
  lateness: { p50: number; p99: number; max: number; probes: number } | null;
  /** Every probe's lateness (ms, sorted), for the distribution plot. */
  latenessSamples?: number[];
  perProcess?: Record<string, number>;
  /** Steps/s of each backlog drain, in order (`stepsPerSecond` is their median). */
  drains?: number[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

async function count(db: SqlDatabase, where: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(`SELECT count(*)::integer AS n FROM wayflow_automation_instances WHERE ${where}`);
  return row?.n ?? 0;
}

/** Copies instance `template` (and its open history row) `n` times with ids `prefix1…prefixN`, then deletes the template. */
export async function cloneInstances(db: SqlDatabase, runner: AutomationRunner, template: string, prefix: string, n: number): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO wayflow_automation_instances (id, automation, key, state, finished, created_at, finished_at, unique_key, due_at, updated_at, version)
       SELECT $2 || g, automation, $2 || 'key' || g, state, finished, created_at, finished_at, unique_key, due_at, updated_at, 1
       FROM wayflow_automation_instances, generate_series(1, $3::integer) AS g WHERE id = $1`,
      [template, prefix, n],
    );
    await tx.query(
      `INSERT INTO wayflow_automation_history (instance_id, task_id, path, status, created, finished, message, result, completed_by)
       SELECT $2 || g, task_id, path, status, created, finished, message, result, completed_by
       FROM wayflow_automation_history, generate_series(1, $3::integer) AS g WHERE instance_id = $1`,
      [template, prefix, n],
    );
  });
  await runner.kill(template);
}

/** Deletes the instances whose ids start with `prefix`, with their history (a drained backlog the next drain must not find). */
export async function removeInstances(db: SqlDatabase, prefix: string): Promise<void> {
  await db.query('DELETE FROM wayflow_automation_history WHERE instance_id LIKE $1', [`${prefix}%`]);
  await db.query('DELETE FROM wayflow_automation_instances WHERE id LIKE $1', [`${prefix}%`]);
}

/** Waits until `check` holds, at most `timeoutMs`; resolves to when it first held. */
async function until(check: () => Promise<boolean>, timeoutMs: number, stepMs = 20): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return Date.now();
    await sleep(stepMs);
  }
  return null;
}

/** Every scheduler process started, killed if the benchmark exits early. */
const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

/** One scheduler build to start: its bundled entry and automations module, and the database it runs on. */
export interface SchedulerBuild {
  mainPath: string;
  defsPath: string;
  databaseUrl: string;
}

/** Starts `n` `wayflow scheduler` processes of `build` on the schema (node run with `nodeArgs`); resolves once each announced itself. */
export async function startProcesses(build: SchedulerBuild, schema: string, n: number, nodeArgs: readonly string[] = []): Promise<ChildProcess[]> {
  return Promise.all(
    Array.from({ length: n }, () => {
      const child = spawn(
        process.execPath,
        [...nodeArgs, build.mainPath, 'scheduler', '--automations', build.defsPath, '--schema', schema, '--batch', '100', '--log-level', 'warn'],
        // A session of its own, as a service has (see bench/own-session.mjs): Linux's autogroup scheduler
        // shares the CPU between sessions, so schedulers left in the bench's session would share one session's CPU.
        { env: { ...process.env, DATABASE_URL: build.databaseUrl }, stdio: ['ignore', 'pipe', 'inherit'], detached: true },
      );
      started.add(child);
      child.once('exit', () => started.delete(child));
      return new Promise<ChildProcess>((resolve, reject) => {
        child.stdout!.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('wayflow scheduler started')) resolve(child);
        });
        child.once('exit', (code) => reject(new Error(`A scheduler process exited with code ${code} before it started.`)));
      });
    }),
  );
}

/** Stops scheduler processes: SIGTERM to each, then resolves once every one has exited. */
export async function stopProcesses(children: readonly ChildProcess[]): Promise<void> {
  const exits = children.map((child) => new Promise((resolve) => child.once('exit', resolve)));
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(exits);
}

/**
 * One database scenario: `waiting` instances wait far in the future all along; `probes`
 * instances fall due spread over `windowMs` (timer lateness = when the node ran − its due
 * time); then `backlog` instances fall due at once (steps per second while they drain).
 */
async function databaseScenario(
  settings: BenchSettings,
  name: string,
  db: SqlDatabase,
  storage: SqlAutomationStorage,
  schedulers: { start(): Promise<void>; stop(): Promise<void> },
): Promise<BenchResult> {
  const runner = createAutomationRunner({ storage, clock: systemClock, automations: [benchTimer] });
  const far = Date.now() + 3_600_000;
  // Creation through the API, one transaction each (the first of the waiting instances).
  const pilot = 200;
  const started = performance.now();
  let template = '';
  for (let i = 0; i < pilot; i++) template = (await runner.create(benchTimer, { dueAt: far })).id;
  const createPerSecond = pilot / ((performance.now() - started) / 1000);
  await cloneInstances(db, runner, template, 'waiting-', settings.waiting - pilot + 1);
  settings.log(`${name}: ${await count(db, 'NOT finished')} waiting instances, ${Math.round(createPerSecond)} creates/s through the API`);

  await schedulers.start();
  // Probes: due times spread over the window, which starts once they are all created.
  const windowStart = Date.now() + Math.ceil((settings.probes / createPerSecond) * 1000 * 1.5) + 500;
  const probeIds: string[] = [];
  for (let i = 0; i < settings.probes; i++) {
    probeIds.push((await runner.create(benchTimer, { dueAt: windowStart + Math.floor((i * settings.windowMs) / settings.probes) })).id);
  }
  // A probe created after it fell due ran late in its own creation: the window began too soon for this machine's load.
  if (Date.now() > windowStart) settings.log(`${name}: warning, the probes were still being created ${Date.now() - windowStart} ms into their window`);
  // Cheap polls (primary key), so that watching does not slow the schedulers down.
  const probesDone = async () => {
    const [row] = await db.query<{ n: number }>('SELECT count(*)::integer AS n FROM wayflow_automation_instances WHERE id = ANY($1::text[]) AND finished', [probeIds]);
    return row?.n === settings.probes;
  };
  await until(probesDone, windowStart + settings.windowMs + 10_000 - Date.now(), 100);
  const late = (
    await db.query<{ state: string }>('SELECT state FROM wayflow_automation_instances WHERE id = ANY($1::text[]) AND finished', [probeIds])
  ).map((row) => {
    const data = (JSON.parse(row.state) as { data: { ranAt: number; dueAt: number; pid: number } }).data;
    return { late: data.ranAt - data.dueAt, at: data.dueAt - windowStart, pid: data.pid };
  });
  late.sort((a, b) => a.late - b.late);
  // The latest probes, with when in the window they fell due and which process ran them: a stall shows as neighbours.
  const worst = late.slice(-12).map((p) => `${p.late} ms at +${p.at} ms by ${p.pid}`);
  const lateness = late.map((p) => p.late);
  settings.log(`${name}: lateness of ${late.length}/${settings.probes} probes p50 ${percentile(lateness, 50)} ms, p99 ${percentile(lateness, 99)} ms; latest: ${worst.join(', ')}`);

  // Backlogs, one per round: each one template due at D, cloned; every scheduler sleeps until D (told by NOTIFY or locally).
  const drains: { drained: number; drainMs: number; stepsPerSecond: number; perProcess: Record<string, number> }[] = [];
  for (let round = 1; round <= settings.drainRounds; round++) drains.push(await drainBacklog(settings, name, db, runner, far, round === 1 ? 'backlog-' : `backlog${round}-`));
  const median = [...drains].sort((a, b) => a.stepsPerSecond - b.stepsPerSecond)[Math.floor((drains.length - 1) / 2)]!;
  const { drained, drainMs, perProcess } = median;
  await schedulers.stop();
  const result: BenchResult = {
    scenario: name,
    createPerSecond: Math.round(createPerSecond),
    stepsPerSecond: median.stepsPerSecond,
    drainMs,
    backlog: drained,
    drains: drains.map((d) => d.stepsPerSecond),
    lateness: { p50: percentile(lateness, 50), p99: percentile(lateness, 99), max: lateness.at(-1) ?? Number.NaN, probes: lateness.length },
    latenessSamples: lateness,
    perProcess,
  };
  if (drains.length > 1) settings.log(`${name}: median of ${drains.length} drains ${result.stepsPerSecond} steps/s (${result.drains?.join(', ')})`);
  return result;
}

/**
 * One backlog drain: `settings.backlog` instances, ids `prefix` + 1..n, fall due at once while the
 * scheduler processes run; resolves to how long they took to finish and which process ran each.
 */
async function drainBacklog(settings: BenchSettings, name: string, db: SqlDatabase, runner: AutomationRunner, far: number, prefix: string) {
  // Each drain starts on vacuumed tables, as autovacuum would leave them: the dead rows and index entries left by what
  // ran before (the probes, an earlier drain) would slow the first drain by a third and more, and vary with the run.
  await db.query('VACUUM wayflow_automation_instances, wayflow_automation_history');
  const dueAt = Date.now() + 1500;
  const backlogTemplate = (await runner.create(benchTimer, { dueAt, backlog: true })).id;
  await cloneInstances(db, runner, backlogTemplate, prefix, settings.backlog);
  const wait = dueAt - Date.now();
  if (wait < 200) settings.log(`${name}: warning, the backlog was ready only ${wait} ms before it fell due`);
  // Unfinished and due before the waiting instances: only the backlog; the partial due index answers it.
  const left = () => count(db, `NOT finished AND due_at < ${far}`);
  // Polled cheaply (a prepared primary-key look at the backlog's last instance, claimed last) until that one has
  // finished; only then counted, since a count walks the due index (each row drained so far a dead entry on its
  // way) and is planned anew each time: a millisecond or more of a database process every 20 ms, taken from the
  // cores the schedulers share.
  const lastDone = async () => {
    const [row] = await db.query<{ finished: boolean }>('SELECT finished FROM wayflow_automation_instances WHERE id = $1', [`${prefix}${settings.backlog}`]);
    return row?.finished === true;
  };
  const doneAt = await until(async () => (await lastDone()) && (await left()) === 0, dueAt - Date.now() + 60_000, 20);
  const drainMs = (doneAt ?? Date.now()) - dueAt;
  const drained = settings.backlog - (await left());
  const perProcess: Record<string, number> = {};
  for (const row of await db.query<{ state: string }>('SELECT state FROM wayflow_automation_instances WHERE finished AND id LIKE $1', [`${prefix}%`])) {
    const pid = String((JSON.parse(row.state) as { data: { pid: number } }).data.pid);
    perProcess[pid] = (perProcess[pid] ?? 0) + 1;
  }
  // The next round starts as this one did: without this backlog (vacuumed away as it starts).
  await removeInstances(db, prefix);
  const stepsPerSecond = Math.round((2 * drained) / (drainMs / 1000));
  settings.log(`${name}: ${drained} instances drained in ${drainMs} ms = ${stepsPerSecond} steps/s ${JSON.stringify(perProcess)}`);
  return { drained, drainMs, stepsPerSecond, perProcess };
}

/**
 * Baseline in the same run: the SQL a step needs at least (lock and read the instance,
 * write it, close one history row, open the next, commit), sent straight from one
 * connection for two steps per instance, without the engine, runner or scheduler.
 */
async function sqlBaseline(settings: BenchSettings): Promise<BenchResult> {
  const schema = `wayflow_bench_auto_${process.pid}_sql`;
  const admin = new pg.Pool({ connectionString: settings.databaseUrl, max: 1 });
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.query(`CREATE SCHEMA ${schema}`);
  const client = new pg.Client({ connectionString: settings.databaseUrl, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    await client.query('CREATE TABLE instances (id text PRIMARY KEY, state text NOT NULL, due_at double precision, version integer NOT NULL)');
    await client.query('CREATE TABLE history (instance_id text NOT NULL, task_id integer NOT NULL, status text NOT NULL, finished double precision, result text, PRIMARY KEY (instance_id, task_id))');
    const n = settings.backlog;
    const state = JSON.stringify({ data: { dueAt: Date.now() }, paths: [{ id: 'p1', node: 'wait', taskId: 1, enteredAt: 0, waitUntil: 0, status: 'active', forks: [] }] });
    await client.query('INSERT INTO instances SELECT $1 || g, $2, 0, 1 FROM generate_series(1, $3::integer) AS g', ['i', state, n]);
    await client.query("INSERT INTO history SELECT 'i' || g, 1, 'wait', NULL, 'null' FROM generate_series(1, $1::integer) AS g", [n]);
    const started = performance.now();
    for (let i = 1; i <= n; i++) {
      for (const task of [1, 2]) {
        await client.query('BEGIN');
        const [row] = (await client.query('SELECT state, version FROM instances WHERE id = $1 FOR UPDATE', [`i${i}`])).rows as { state: string; version: number }[];
        await client.query('UPDATE instances SET state = $2, due_at = $3, version = version + 1 WHERE id = $1 AND version = $4', [`i${i}`, row!.state, task === 1 ? Date.now() : null, row!.version]);
        await client.query("UPDATE history SET finished = $3, result = 'null' WHERE instance_id = $1 AND task_id = $2", [`i${i}`, task, Date.now()]);
        if (task === 1) await client.query("INSERT INTO history VALUES ($1, 2, 'end', NULL, 'null')", [`i${i}`]);
        await client.query('COMMIT');
      }
    }
    const drainMs = Math.round(performance.now() - started);
    return { scenario: 'baseline: the same SQL straight from one connection (PostgreSQL)', createPerSecond: null, stepsPerSecond: Math.round((2 * n) / (drainMs / 1000)), drainMs, backlog: n, lateness: null };
  } finally {
    await client.end();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

/**
 * Flow runs continued per second by one `wayflow scheduler` process on PostgreSQL: `backlog`
 * pending runs of `BenchFlow` (two actions each) are inserted at once (with the SQL of the
 * layout the process's migrations made: rows of the instances table since migration 1004,
 * `wayflow_flow_runs` before), the process is woken by NOTIFY, and the time until none is
 * unfinished is measured.
 */
async function flowScenario(settings: BenchSettings, name: string, paths: { mainPath: string; defsPath: string }): Promise<BenchResult> {
  const schema = `wayflow_bench_flow_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Pool({ connectionString: settings.databaseUrl, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const pool = new pg.Pool({ connectionString: settings.databaseUrl, max: 2, options: `-c search_path=${schema}` });
  const db = postgresDatabase(pool);
  let children: ChildProcess[] = [];
  try {
    children = await startProcesses({ ...settings, ...paths }, schema, 1);
    const oneTable = (await db.query('SELECT 1 FROM wayflow_migrations WHERE id = 1004')).length === 1;
    const now = Date.now();
    const run = { id: '', flow: 'BenchFlow', status: 'pending', position: [], resume: 'next', continueAfter: null, state: {}, objectId: null, objectType: null, trigger: null, createdAt: now, finishedAt: null, error: null, log: [], parentId: null, loops: {} };
    const body = "jsonb_set($1::jsonb, '{id}', to_jsonb('run' || g))::text";
    await db.query(
      oneTable
        ? `INSERT INTO wayflow_automation_instances (id, automation, key, state, finished, created_at, finished_at, unique_key, due_at, updated_at, version, kind)
           SELECT 'run' || g, 'BenchFlow', 'flow:run' || g, ${body}, false, $2, NULL, NULL, $2, $2, 1, 'flow' FROM generate_series(1, $3::integer) AS g`
        : `INSERT INTO wayflow_flow_runs (id, flow, status, object_id, parent_id, created_at, continue_after, body)
           SELECT 'run' || g, 'BenchFlow', 'pending', NULL, NULL, $2, NULL, ${body} FROM generate_series(1, $3::integer) AS g`,
      [JSON.stringify(run), now, settings.backlog],
    );
    const started = Date.now();
    await db.query('SELECT pg_notify($1, $2)', [`wayflow_automation_due_${schema}`.slice(0, 63), String(started)]);
    const left = async () => {
      const [row] = await db.query<{ n: number }>(
        oneTable
          ? "SELECT count(*)::integer AS n FROM wayflow_automation_instances WHERE kind = 'flow' AND NOT finished"
          : "SELECT count(*)::integer AS n FROM wayflow_flow_runs WHERE status IN ('pending', 'waiting')",
      );
      return row?.n ?? 0;
    };
    const doneAt = await until(async () => (await left()) === 0, 120_000, 20);
    const drainMs = (doneAt ?? Date.now()) - started;
    const drained = settings.backlog - (await left());
    const result: BenchResult = { scenario: name, createPerSecond: null, stepsPerSecond: Math.round(drained / (drainMs / 1000)), drainMs, backlog: drained, lateness: null };
    settings.log(`${name}: ${drained} flow runs (2 actions each) continued in ${drainMs} ms = ${result.stepsPerSecond} runs/s`);
    return result;
  } finally {
    await stopProcesses(children);
    await pool.end();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

/** Runs the selected scenarios and resolves to their figures. */
export async function runBench(settings: BenchSettings): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  if (settings.scenarios.includes('sql')) results.push(await sqlBaseline(settings));
  if (settings.scenarios.includes('pglite')) {
    const pglite = await PGlite.create();
    const db = pgliteDatabase(pglite);
    const storage = await sqlAutomationStorage(db, { notify: false });
    const runner = createAutomationRunner({ storage, clock: systemClock, automations: [benchTimer] });
    let scheduler: ReturnType<typeof startAutomationScheduler> | null = null;
    results.push(
      await databaseScenario(settings, 'PGlite, one in-process scheduler', db, storage, {
        start: async () => {
          scheduler = startAutomationScheduler({ runner, storage, batchSize: 100 });
        },
        stop: async () => scheduler?.stop(),
      }),
    );
    await pglite.close();
  }
  if (settings.scenarios.includes('flow1')) {
    if (settings.baseline) results.push(await flowScenario(settings, `flowcontrol runs/s, 1 scheduler process (PostgreSQL), baseline: ${settings.baseline.label}`, settings.baseline));
    results.push(await flowScenario(settings, 'flowcontrol runs/s, 1 scheduler process (PostgreSQL)', settings));
  }
  for (const processes of [1, 2, 4]) {
    if (!settings.scenarios.includes(`pg${processes}`)) continue;
    // pg1 runs first on the baseline's scheduler too, when there is one (the database is seeded by this code either way).
    const variants = processes === 1 && settings.baseline ? [{ ...settings.baseline, suffix: `, baseline: ${settings.baseline.label}` }] : [];
    for (const variant of [...variants, { mainPath: settings.mainPath, defsPath: settings.defsPath, suffix: '' }]) {
      const schema = `wayflow_bench_auto_${process.pid}_${processes}`;
      const admin = new pg.Pool({ connectionString: settings.databaseUrl, max: 1 });
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.query(`CREATE SCHEMA ${schema}`);
      const pool = new pg.Pool({ connectionString: settings.databaseUrl, max: 4, options: `-c search_path=${schema}` });
      const db = postgresDatabase(pool);
      try {
        const storage = await sqlAutomationStorage(db);
        let children: ChildProcess[] = [];
        results.push(
          await databaseScenario(settings, `PostgreSQL, ${processes} scheduler process${processes > 1 ? 'es' : ''}${variant.suffix}`, db, storage, {
            start: async () => {
              children = await startProcesses({ ...settings, ...variant }, schema, processes);
            },
            stop: () => stopProcesses(children),
          }),
        );
      } finally {
        await pool.end();
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await admin.end();
      }
    }
  }
  return results;
}
