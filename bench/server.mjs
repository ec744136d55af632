// Tasks API benchmark (not part of the test run), loopback only and bounded:
//   node bench/server.mjs
// Each virtual user has its own session and task and loops PUT (If-Match) then GET,
// for TASK_DURATION_MS after a WARMUP_MS warm-up. Scenarios: PGlite behind one server
// process; PostgreSQL behind one and two server processes (users alternate between
// them on every request). Baselines in the same run: a bare node:http server
// (bench/server-baseline.mjs) doing the same conditional SQL without Hono, sessions,
// validation, rate limit or logs, in as many processes; and the same SQL sent
// straight to the database from the load process, without HTTP.
// Method: every server is warmed up once before the rounds (not counted), so no round meets a
// cold process. Then TASK_ROUNDS short rounds; in each, the API scenario and its bare baseline
// run back to back, in the other order every other round (A B, B A, ...), and the published
// ratio is the median of the rounds' own ratios (each round's two halves share the machine's
// load of the moment, which drifts over a run); every other figure is the median round.
// Every HTTP scenario also reports the CPU time its server processes spent per put+get (from
// /proc, Linux only): unlike throughput, it hardly depends on what else runs on the machine. Of
// it, the main threads' (the rest is V8's compiler and GC helper threads, which a server whose
// hot paths are still being optimized keeps busy).
// On PostgreSQL it also reports the CPU time of the database backends serving those servers
// (found by the application_name each server's connections carry), median [lowest–highest] round.
// Then instance creation: VUS users POST /automations/start (an execute node, then a form:
// what a checkout does) on PostgreSQL, against 1 and 2 `wayflow serve --automations`
// processes; each user takes a new session every 50 starts, as the per-session instance cap
// counts a session's unfinished instances. Its baseline: the bare node:http server writing the
// same rows (key, instance, history) in one transaction. With BASELINE_ROOT=<an older checkout>
// (its node_modules are not needed), both parts also run that checkout's servers, their rounds
// interleaved with this code's: the older code in the same run. In the tasks part its 2 processes on
// PostgreSQL run in the rounds of this code's 2 and the bare server's (the three in turn, the order
// reversed every other round), and the median of the rounds' ratios of this code to the older is printed.
// Env: VUS (default 16, at most 64), TASK_ROUNDS (default 7, at most 15), TASK_DURATION_MS
// (default 2500) and TASK_WARMUP_ROUNDS (uncounted rounds first, default 1, at most 10) for the tasks part, ROUNDS (default 3, at most 10) and DURATION_MS (default 5000,
// at most 30000) for the starts part, WARMUP_MS (default 1000), PARTS (default tasks,starts: which
// of the two to run), SERVER_NODE_ARGS (node flags for every server process, e.g. --cpu-prof),
// BENCH_JSON=file to also write the figures as JSON.
// PostgreSQL is found as for the tests (test/helpers/test-database.mjs): DATABASE_URL if set,
// else 127.0.0.1:5432/test if it answers, else a throwaway embedded cluster (with fsync on, like
// a real server); the first line and the JSON say which, since their figures differ.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { build } from 'esbuild';
import pg from 'pg';
import { resolveTestDatabase } from '../test/helpers/test-database.mjs';
import { ownSession } from './own-session.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Exit through process.exit on a signal, so a throwaway cluster is stopped on the way out.
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));
const VUS = Math.min(64, Number(process.env.VUS ?? 16));
const DURATION_MS = Math.min(30_000, Number(process.env.DURATION_MS ?? 5000));
const WARMUP_MS = Math.min(10_000, Number(process.env.WARMUP_MS ?? 1000));
const PARTS = (process.env.PARTS ?? 'tasks,starts').split(',');
const BASELINE_ROOT = process.env.BASELINE_ROOT || null;
// Node flags for every server process (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`: NODE_OPTIONS refuses --cpu-prof).
const SERVER_NODE_ARGS = (process.env.SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
const database = await resolveTestDatabase({ durable: true, loopbackOnly: true });
const DATABASE_URL = database.url;
const ORIGIN = 'http://bench.test';
const SCHEMA = `wayflow_bench_${process.pid}`;

const taskId = () => Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url');

/** A task record of about 1 KB, like a checkout flow a few steps in. */
function record(id, binder, version) {
  const now = Date.now();
  return {
    id,
    flowId: 'checkout',
    flowVersion: 1,
    version,
    data: { item: 'book', quantity: version, address: { street: '1 Long Road', city: 'Leeds', zip: 'LS1 4AP' }, note: 'x'.repeat(300) },
    snapshot: {
      value: { checkout: { address: '$ready' } },
      context: { user: null, trail: [{ step: 'cart', visit: 1, data: {} }, { step: 'address', visit: 1, data: {} }], at: 1, inputs: { cart: { item: 'book' } }, visits: { cart: 1, address: 1 }, until: null, reason: null },
    },
    history: [
      { at: now, event: 'start', from: null, to: 'cart', actor: null },
      { at: now, event: 'submit', from: 'cart', to: 'address', actor: null, outcome: 'complete' },
    ],
    binder,
    createdAt: now,
    lastActiveAt: now,
    expiresAt: now + 20 * 60_000,
  };
}

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : Number.NaN;
}

/** CPU seconds (user + system) the process `pid` used so far, from /proc (null where there is none); with `thread`, that thread's alone. */
function cpuSeconds(pid, thread) {
  try {
    const fields = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** CPU seconds so far of the main thread of `pid` (JavaScript, the event loop), without V8's compiler and GC helper threads. */
const mainThreadSeconds = (pid) => cpuSeconds(pid, pid);

/**
 * CPU seconds so far of the PostgreSQL backends serving connections named `apps`
 * (`application_name`), by backend pid; null where their /proc is not readable (a database in
 * another container or machine) or there are none.
 */
async function backendCpu(apps) {
  if (!apps.length || !probe) return null;
  const { rows } = await probe.query('SELECT pid FROM pg_stat_activity WHERE application_name = ANY($1)', [apps]);
  const cpu = new Map(rows.map(({ pid }) => [pid, cpuSeconds(pid)]));
  return [...cpu.values()].every((v) => v !== null) ? cpu : null;
}

/**
 * CPU seconds the backends of `after` spent since `before` (a backend opened meanwhile counts in
 * full, its connection set-up too; one closed meanwhile is missed: the pools keep theirs 10 s idle).
 */
function backendCpuSpent(before, after) {
  if (before === null || after === null || after.size === 0) return null;
  let sum = 0;
  for (const [pid, cpu] of after) sum += cpu - (before.get(pid) ?? 0);
  return sum;
}

/**
 * Runs `step(vu)` (one put+get, timing each) for every virtual user until the time is up;
 * `pids`: the server processes whose CPU time is counted; `apps`: the application names of
 * their database connections, whose PostgreSQL backends' CPU time is counted too.
 */
async function drive(users, step, pids = [], apps = []) {
  const timings = { put: [], get: [] };
  let pairs = 0;
  let allPairs = 0;
  const cpuBefore = pids.map((pid) => cpuSeconds(pid));
  const mainBefore = pids.map(mainThreadSeconds);
  const backendsBefore = await backendCpu(apps);
  // Judged by the clock, not a timer: an in-process database may never yield to timers.
  const measureFrom = performance.now() + WARMUP_MS;
  const stopAt = measureFrom + TASK_DURATION_MS;
  await Promise.all(
    users.map(async (user) => {
      while (performance.now() < stopAt) {
        const t0 = performance.now();
        await step.put(user);
        const t1 = performance.now();
        await step.get(user);
        const t2 = performance.now();
        allPairs++;
        if (t0 >= measureFrom) {
          timings.put.push(t1 - t0);
          timings.get.push(t2 - t1);
          pairs++;
        }
      }
    }),
  );
  const seconds = (Math.max(stopAt, performance.now()) - measureFrom) / 1000;
  const summary = (values) => {
    const sorted = values.sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  };
  const cpu = pids.length && cpuBefore.every((v) => v !== null) ? pids.reduce((sum, pid, i) => sum + cpuSeconds(pid) - cpuBefore[i], 0) : null;
  const main = cpu !== null && mainBefore.every((v) => v !== null) ? pids.reduce((sum, pid, i) => sum + mainThreadSeconds(pid) - mainBefore[i], 0) : null;
  const backends = backendCpuSpent(backendsBefore, await backendCpu(apps));
  return {
    pairsPerSecond: pairs / seconds,
    requestsPerSecond: (2 * pairs) / seconds,
    put: summary(timings.put),
    get: summary(timings.get),
    serverCpuMsPerPair: cpu === null || allPairs === 0 ? null : (1000 * cpu) / allPairs,
    serverMainThreadCpuMsPerPair: main === null || allPairs === 0 ? null : (1000 * main) / allPairs,
    databaseCpuMsPerPair: backends === null || allPairs === 0 ? null : (1000 * backends) / allPairs,
  };
}

/** Virtual users of the HTTP API, each with its own session cookie and task; requests alternate between `urls`. */
function httpStep(urls) {
  let turn = 0;
  const next = () => urls[turn++ % urls.length];
  const send = async (user, path, init) => {
    const response = await fetch(`${next()}${path}`, { ...init, headers: { ...init.headers, origin: ORIGIN, 'wayflow-binder': user.binder, ...(user.cookie ? { cookie: user.cookie } : {}) } });
    const cookie = response.headers.get('set-cookie');
    if (cookie) user.cookie = cookie.split(';')[0];
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path}: HTTP ${response.status}`);
  };
  return {
    put: async (user) => {
      user.version++;
      await send(user, `/tasks/${user.id}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'if-match': `"${user.version - 1}"` },
        body: JSON.stringify(record(user.id, user.binder, user.version)),
      });
    },
    get: (user) => send(user, `/tasks/${user.id}`, { method: 'GET', headers: {} }),
  };
}

/** The baseline: the storage's SQL sent straight to the database by `query(text, params)`. */
function sqlStep(query) {
  return {
    put: async (user) => {
      user.version++;
      const r = record(user.id, user.binder, user.version);
      const json = JSON.stringify(r);
      const now = Date.now();
      if (user.version === 1) {
        await query(
          `INSERT INTO wayflow_tasks (owner, id, binder, version, record, summary, last_active_at, expires_at, idle_until)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (owner, id) DO NOTHING RETURNING version`,
          ['bench', r.id, r.binder, r.version, json, '{}', now, r.expiresAt, now + 1_200_000],
        );
      } else {
        const rows = await query(
          `UPDATE wayflow_tasks SET version = $4, record = $5, last_active_at = $6, expires_at = $7, idle_until = $8
           WHERE owner = $1 AND id = $2 AND binder = $3 AND version = $9 AND idle_until > $10 RETURNING version`,
          ['bench', r.id, r.binder, r.version, json, now, r.expiresAt, now + 1_200_000, r.version - 1, now],
        );
        if (rows.length !== 1) throw new Error('baseline update lost');
      }
    },
    get: async (user) => {
      const rows = await query('SELECT record FROM wayflow_tasks WHERE owner = $1 AND id = $2 AND binder = $3 AND idle_until > $4 AND expires_at > $4', ['bench', user.id, user.binder, Date.now()]);
      JSON.parse(rows[0].record);
    },
  };
}

/** Starts instances over HTTP, requests alternating between `urls`, for every virtual user until the time is up; `pids` and `apps` as for `drive`. */
async function driveStarts(urls, pids, apps) {
  let turn = 0;
  let starts = 0;
  let allStarts = 0;
  const latencies = [];
  const cpuBefore = pids.map((pid) => cpuSeconds(pid));
  const backendsBefore = await backendCpu(apps);
  const measureFrom = performance.now() + WARMUP_MS;
  const stopAt = measureFrom + DURATION_MS;
  await Promise.all(
    Array.from({ length: VUS }, async () => {
      let cookie = null;
      for (let n = 0; performance.now() < stopAt; n++) {
        // A new session every 50 starts: the per-session cap counts a session's unfinished instances.
        if (n % 50 === 0) cookie = null;
        const t0 = performance.now();
        const response = await fetch(`${urls[turn++ % urls.length]}/automations/start/BenchOrder`, {
          method: 'POST',
          headers: { origin: ORIGIN, 'content-type': 'application/json', 'idempotency-key': taskId(), ...(cookie ? { cookie } : {}) },
          body: JSON.stringify({ input: { item: 'book', qty: 2 } }),
        });
        const set = response.headers.get('set-cookie');
        if (set) cookie = set.split(';')[0];
        await response.arrayBuffer();
        if (response.status !== 201) throw new Error(`start: HTTP ${response.status}`);
        allStarts++;
        if (t0 >= measureFrom) {
          latencies.push(performance.now() - t0);
          starts++;
        }
      }
    }),
  );
  const seconds = (Math.max(stopAt, performance.now()) - measureFrom) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  const cpu = cpuBefore.every((v) => v !== null) ? pids.reduce((sum, pid, i) => sum + cpuSeconds(pid) - cpuBefore[i], 0) : null;
  const backends = backendCpuSpent(backendsBefore, await backendCpu(apps));
  return {
    startsPerSecond: starts / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    serverCpuMsPerStart: cpu === null ? null : (1000 * cpu) / allStarts,
    databaseCpuMsPerStart: backends === null ? null : (1000 * backends) / allStarts,
  };
}

/** The automations module of the instance-creation servers: an order that runs one node, then waits at a form. */
const AUTOMATIONS_MODULE = `
  import { z } from 'zod';
  import { defineAutomation, flow } from './src/automations/index.ts';
  export const automations = [defineAutomation('BenchOrder', {
    verboseName: 'Order',
    nodes: {
      received: flow.execute((ctx) => { ctx.data.receivedAt = ctx.now; }),
      approve: flow.form(z.object({ ok: z.boolean() })).group('backoffice').describe('Approve the order'),
      end: flow.end(),
    },
  })];
  export const sync = { automations: { BenchOrder: { start: { schema: z.object({ item: z.string().min(1), qty: z.number().int().min(1) }) }, expose: (data) => ({ item: data.item }) } } };
`;

const users = () => Array.from({ length: VUS }, (_, index) => ({ id: taskId(), binder: `bench-${index}`, version: 0, cookie: null }));

// --- servers -------------------------------------------------------------------------------------
await mkdir(join(ROOT, 'node_modules/.cache'), { recursive: true });
const work = await mkdtemp(join(ROOT, 'node_modules/.cache/wayflow-bench-'));
const cli = join(work, 'cli.mjs');
await build({ entryPoints: [join(ROOT, 'src/server/cli.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: cli, logLevel: 'silent' });
const automationsModule = join(work, 'automations.mjs');
await build({ stdin: { contents: AUTOMATIONS_MODULE, resolveDir: ROOT, loader: 'ts' }, bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: automationsModule, logLevel: 'silent' });
// The older checkout's CLI and automations module (bare imports resolve from this checkout's node_modules at run time).
const baseline = BASELINE_ROOT ? { cli: join(work, 'baseline-cli.mjs'), automationsModule: join(work, 'baseline-automations.mjs') } : null;
if (baseline) {
  await build({ entryPoints: [join(BASELINE_ROOT, 'src/server/cli.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: baseline.cli, logLevel: 'silent' });
  if (PARTS.includes('starts')) {
    await build({ stdin: { contents: AUTOMATIONS_MODULE, resolveDir: BASELINE_ROOT, loader: 'ts' }, bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: baseline.automationsModule, logLevel: 'silent' });
  }
}
const children = new Set();
// Servers run in sessions of their own (`ownSession`): a signal to the bench does not reach them, so they go with it.
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});
/** The process id of each started server, by its URL. */
const pidOf = new Map();
/** The `application_name` of each PostgreSQL-backed server's connections, by its URL. */
const appOf = new Map();
let servers = 0;

/** `url` with `application_name=<app>`: the backends serving that server's connections are found by it. */
const named = (url, app) => {
  const named = new URL(url);
  named.searchParams.set('application_name', app);
  return named.href;
};

function startServer(args, env = {}, cliPath = cli) {
  if (env.DATABASE_URL) {
    const app = `wayflow_bench_${process.pid}_${++servers}`;
    return startProcess([cliPath, 'serve', ...SERVE_ARGS, ...args], { ...env, DATABASE_URL: named(env.DATABASE_URL, app) }, app);
  }
  return startProcess([cliPath, 'serve', ...SERVE_ARGS, ...args], env);
}
const SERVE_ARGS = ['--host', '127.0.0.1', '--port', '0', '--write-rate', '1000000', '--read-rate', '1000000', '--client-rate', '1000000', '--session-rate', '1000000', '--origin', ORIGIN, '--log-level', 'warn'];

function startBaseline(target, ...args) {
  const script = fileURLToPath(new URL('./server-baseline.mjs', import.meta.url));
  if (!target.startsWith('postgres')) return startProcess([script, target, ...args]);
  const app = `wayflow_bench_${process.pid}_${++servers}`;
  return startProcess([script, named(target, app), ...args], {}, app);
}

function startProcess(argv, env = {}, app = null) {
  const child = spawn(process.execPath, [...SERVER_NODE_ARGS, ...argv], {
    env: { ...process.env, DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
    ...ownSession,
  });
  children.add(child);
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) {
        if (!line.includes('"msg":"wayflow serve started"')) continue;
        const { url } = JSON.parse(line);
        pidOf.set(url, child.pid);
        if (app) appOf.set(url, app);
        resolve(url);
      }
    });
  });
}

async function stopAll() {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', resolve);
          child.kill('SIGTERM');
        }),
    ),
  );
  children.clear();
}

const os = await import('node:os');
const ROUNDS = Math.min(10, Number(process.env.ROUNDS ?? 3));
// The tasks part: more and shorter rounds, as its figure is a ratio of two scenarios run back to back per round.
const TASK_ROUNDS = Math.min(15, Number(process.env.TASK_ROUNDS ?? 7));
const TASK_DURATION_MS = Math.min(30_000, Number(process.env.TASK_DURATION_MS ?? 2500));
// Uncounted rounds of every HTTP scenario before the counted ones (V8 goes on optimizing a server's hot paths for tens of thousands of requests).
const TASK_WARMUP_ROUNDS = Math.max(1, Math.min(10, Number(process.env.TASK_WARMUP_ROUNDS ?? 1)));
const results = {
  vus: VUS,
  durationMs: DURATION_MS,
  taskRounds: TASK_ROUNDS,
  taskWarmupRounds: TASK_WARMUP_ROUNDS,
  taskDurationMs: TASK_DURATION_MS,
  rounds: ROUNDS,
  node: process.version,
  postgres: { source: database.source, version: database.version, description: database.description },
  cpus: os.cpus().length,
  loadAverageAtStart: os.loadavg()[0],
};
const ms = (v) => `${v.toFixed(1)} ms`;
const middle = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round3 = (v) => Math.round(v * 1000) / 1000;
/** `median [lowest–highest]` of per-round values, 2 decimals. */
const spread = (values) => `${middle(values).toFixed(2)} [${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}]`;

const admin = new pg.Client({ connectionString: DATABASE_URL });
/** Finds the backends of the servers' connections (`backendCpu`). */
const probe = new pg.Client({ connectionString: DATABASE_URL });
await probe.connect();
try {
  console.log(`measured on ${database.description}`);
  console.log(
    `${VUS} virtual users; tasks: ${TASK_ROUNDS} rounds of ${TASK_DURATION_MS} ms per scenario after ${TASK_WARMUP_ROUNDS} uncounted, starts: ${ROUNDS} rounds of ${DURATION_MS} ms, each after ${WARMUP_MS} ms warm-up; ${results.cpus} CPUs (load average ${results.loadAverageAtStart.toFixed(1)}); Node ${process.version}`,
  );
  // Every server runs for the whole benchmark (idle while others are measured); PGlite: one process per data folder.
  const env = { DATABASE_URL };
  const postgresBare = [await startBaseline(DATABASE_URL, `${SCHEMA}_bare`), await startBaseline(DATABASE_URL, `${SCHEMA}_bare`)];
  if (PARTS.includes('tasks')) await tasksPart(env, postgresBare);
  if (PARTS.includes('starts')) await startsPart(env, postgresBare);
  results.loadAverageAtEnd = os.loadavg()[0];
  console.log(`load average at the end: ${results.loadAverageAtEnd.toFixed(1)} (the load generator, servers and database share these CPUs)`);
  if (process.env.BENCH_JSON) await writeFile(process.env.BENCH_JSON, JSON.stringify(results, null, 2));
} finally {
  await stopAll();
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA}_bare CASCADE`);
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA}_older CASCADE`);
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA}_auto CASCADE`);
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA}_autobase CASCADE`);
  await admin.end();
  await probe.end();
  await rm(work, { recursive: true, force: true });
  await database.stop();
}

/** The tasks API against its baselines (bare node:http and straight SQL), on PGlite and PostgreSQL. */
async function tasksPart(env, postgresBare) {
  const pgliteApi = await startServer(['--data', join(work, 'pglite')]);
  const pgliteBare = await startBaseline(join(work, 'pglite-bare'));
  const postgresApi = [await startServer(['--schema', SCHEMA], env), await startServer(['--schema', SCHEMA], env)];
  // The older checkout's servers, on a schema of their own (its migrations may differ).
  const olderArgs = ['--schema', `${SCHEMA}_older`];
  const postgresOlder = baseline ? [await startServer(olderArgs, env, baseline.cli), await startServer(olderArgs, env, baseline.cli)] : null;
  // Same kind of database as the server's: a data folder on disk.
  const embedded = await PGlite.create(join(work, 'pglite-direct'));
  await embedded.exec(`CREATE TABLE wayflow_tasks (owner text NOT NULL, id text NOT NULL, binder text NOT NULL, version integer NOT NULL, record text NOT NULL,
    summary text NOT NULL, last_active_at double precision NOT NULL, expires_at double precision NOT NULL, idle_until double precision NOT NULL, PRIMARY KEY (owner, id))`);
  const directApp = `wayflow_bench_${process.pid}_direct`;
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10, options: `-c search_path=${SCHEMA}`, application_name: directApp });

  const scenarios = [
    ['pgliteApi', 'API on PGlite, 1 server process', [pgliteApi]],
    ['pgliteBareHttp', '  baseline: bare node:http + same SQL, PGlite', [pgliteBare]],
    ['pgliteDirect', '  baseline: same SQL, PGlite in-process, no HTTP', async (text, params) => (await embedded.query(text, params)).rows],
    ['postgresApi1', 'API on PostgreSQL, 1 server process', postgresApi.slice(0, 1)],
    ['postgresApi2', 'API on PostgreSQL, 2 server processes', postgresApi],
    ...(postgresOlder ? [['postgresOlder2', `  the same, ${BASELINE_ROOT}, 2 server processes`, postgresOlder]] : []),
    ['postgresBareHttp2', '  baseline: bare node:http + same SQL, PG, 2 processes', postgresBare],
    ['postgresDirect', '  baseline: same SQL, pg pool, no HTTP', async (text, params) => (await pool.query(text, params)).rows],
  ];
  const byKey = new Map(scenarios.map((scenario) => [scenario[0], scenario]));
  /**
   * The API scenarios held to a ratio, each group ending with their baseline: a group's scenarios run back to back in
   * every round (the older code's servers beside this code's, with BASELINE_ROOT).
   */
  const groups = [
    ['pgliteApi', 'pgliteBareHttp'],
    ['postgresApi2', ...(postgresOlder ? ['postgresOlder2'] : []), 'postgresBareHttp2'],
  ];
  const paired = new Set(groups.flat());
  const measure = async (key) => {
    const target = byKey.get(key)[2];
    if (!Array.isArray(target)) return drive(users(), sqlStep(target), [], key === 'postgresDirect' ? [directApp] : []);
    return drive(
      users(),
      httpStep(target),
      target.map((url) => pidOf.get(url)),
      target.map((url) => appOf.get(url)).filter(Boolean),
    );
  };
  // Rounds in turn, so slow phases of a busy machine hit every scenario alike. Each API scenario and
  // its baseline run back to back, in the other order every other round (A B, B A, ...), and the
  // ratio is the median of the rounds' own ratios: the load of the machine drifts over a run, much
  // less over the two halves of one round. Each other figure is the median round.
  // Every server warmed up first (its JIT compiles the hot paths over thousands of requests): the
  // second process of a pair is otherwise cold in its first round, which no scenario of one process sees.
  for (let warm = 0; warm < TASK_WARMUP_ROUNDS; warm++) for (const [key, , target] of scenarios) if (Array.isArray(target)) await measure(key);
  const runs = Object.fromEntries(scenarios.map(([key]) => [key, []]));
  const roundRatios = Object.fromEntries(groups.flatMap((group) => group.slice(0, -1).map((api) => [api, []])));
  for (let round = 0; round < TASK_ROUNDS; round++) {
    for (const group of groups) {
      const order = round % 2 === 0 ? group : [...group].reverse();
      for (const key of order) runs[key].push(await measure(key));
      const base = group.at(-1);
      for (const api of group.slice(0, -1)) roundRatios[api].push(runs[api].at(-1).pairsPerSecond / runs[base].at(-1).pairsPerSecond);
    }
    for (const [key] of scenarios) if (!paired.has(key)) runs[key].push(await measure(key));
  }
  for (const [key, label] of scenarios) {
    const all = runs[key];
    const r = {
      pairsPerSecond: middle(all.map((x) => x.pairsPerSecond)),
      put: { p50: middle(all.map((x) => x.put.p50)), p99: middle(all.map((x) => x.put.p99)) },
      get: { p50: middle(all.map((x) => x.get.p50)), p99: middle(all.map((x) => x.get.p99)) },
      roundsPairsPerSecond: all.map((x) => Math.round(x.pairsPerSecond)),
      serverCpuMsPerPair: all[0].serverCpuMsPerPair === null ? null : middle(all.map((x) => x.serverCpuMsPerPair)),
      roundsServerCpuMsPerPair: all[0].serverCpuMsPerPair === null ? null : all.map((x) => round3(x.serverCpuMsPerPair)),
      serverMainThreadCpuMsPerPair: all.some((x) => x.serverMainThreadCpuMsPerPair == null) ? null : middle(all.map((x) => x.serverMainThreadCpuMsPerPair)),
      databaseCpuMsPerPair: all.some((x) => x.databaseCpuMsPerPair === null) ? null : middle(all.map((x) => x.databaseCpuMsPerPair)),
    };
    results[key] = r;
    console.log(
      `${label.padEnd(56)} ${r.pairsPerSecond.toFixed(0).padStart(5)} put+get/s [rounds ${r.roundsPairsPerSecond.join(', ')}]  put p50 ${ms(r.put.p50)} p99 ${ms(r.put.p99)}  get p50 ${ms(r.get.p50)} p99 ${ms(r.get.p99)}${
        r.serverCpuMsPerPair === null ? '' : `  server CPU ${spread(all.map((x) => x.serverCpuMsPerPair))} ms/put+get`
      }${r.serverMainThreadCpuMsPerPair === null ? '' : ` (main thread ${spread(all.map((x) => x.serverMainThreadCpuMsPerPair))})`}${r.databaseCpuMsPerPair === null ? '' : `  database CPU ${spread(all.map((x) => x.databaseCpuMsPerPair))} ms/put+get`}`,
    );
  }
  for (const group of groups) {
    for (const api of group.slice(0, -1)) {
      const ratios = roundRatios[api];
      results[`${api}Ratio`] = middle(ratios);
      results[`${api}RoundRatios`] = ratios.map(round3);
      console.log(`${api} / ${group.at(-1)}: ${results[`${api}Ratio`].toFixed(2)}x put+get/s (median of the rounds' ratios ${ratios.map((x) => x.toFixed(2)).join(', ')})`);
    }
  }
  if (postgresOlder) {
    // This code's put+get/s over the older code's in each round: their ratios to the same bare run, divided.
    const olderRatios = roundRatios.postgresApi2.map((ratio, round) => ratio / roundRatios.postgresOlder2[round]);
    results.postgresApi2VsOlder = middle(olderRatios);
    results.postgresApi2VsOlderRoundRatios = olderRatios.map(round3);
    console.log(`postgresApi2 / postgresOlder2 (${BASELINE_ROOT}): ${results.postgresApi2VsOlder.toFixed(2)}x put+get/s (median of the rounds' ratios ${olderRatios.map((x) => x.toFixed(2)).join(', ')})`);
  }
  await pool.end();
  await embedded.close();
}

/** Instance creation through the HTTP API on PostgreSQL, against the bare server writing the same rows. */
async function startsPart(env, postgresBare) {
  const automationArgs = ['--schema', `${SCHEMA}_auto`, '--automations', automationsModule, '--max-instances', '1000'];
  const startApi = [await startServer(automationArgs, env), await startServer(automationArgs, env)];
  const startBare = postgresBare;
  // The older checkout's servers, on a schema of their own (its migrations may differ).
  const baseArgs = baseline && ['--schema', `${SCHEMA}_autobase`, '--automations', baseline.automationsModule, '--max-instances', '1000'];
  const startBase = baseline ? [await startServer(baseArgs, env, baseline.cli), await startServer(baseArgs, env, baseline.cli)] : null;
  const startScenarios = [
    ['startApi1', 'starts through the API on PostgreSQL, 1 server process', startApi.slice(0, 1)],
    ...(startBase ? [['startOlder1', `  the same, ${BASELINE_ROOT}, 1 server process`, startBase.slice(0, 1)]] : []),
    ['startApi2', 'starts through the API on PostgreSQL, 2 server processes', startApi],
    ...(startBase ? [['startOlder2', `  the same, ${BASELINE_ROOT}, 2 server processes`, startBase]] : []),
    ['startBare2', '  baseline: bare node:http, same rows in one transaction, 2 processes', startBare],
  ];
  // Every server warmed up first, as in the tasks part: a round of each set of servers, not counted.
  for (const urls of [startApi, ...(startBase ? [startBase] : []), startBare]) await driveStarts(urls, [], []);
  const startRuns = Object.fromEntries(startScenarios.map(([key]) => [key, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [key, , urls] of startScenarios) {
      startRuns[key].push(
        await driveStarts(
          urls,
          urls.map((url) => pidOf.get(url)),
          urls.map((url) => appOf.get(url)),
        ),
      );
    }
  }
  for (const [key, label] of startScenarios) {
    const all = startRuns[key];
    const r = {
      startsPerSecond: middle(all.map((x) => x.startsPerSecond)),
      p50: middle(all.map((x) => x.p50)),
      p99: middle(all.map((x) => x.p99)),
      roundsStartsPerSecond: all.map((x) => Math.round(x.startsPerSecond)),
      serverCpuMsPerStart: all[0].serverCpuMsPerStart === null ? null : middle(all.map((x) => x.serverCpuMsPerStart)),
      roundsServerCpuMsPerStart: all[0].serverCpuMsPerStart === null ? null : all.map((x) => round3(x.serverCpuMsPerStart)),
      databaseCpuMsPerStart: all.some((x) => x.databaseCpuMsPerStart === null) ? null : middle(all.map((x) => x.databaseCpuMsPerStart)),
      roundsDatabaseCpuMsPerStart: all.some((x) => x.databaseCpuMsPerStart === null) ? null : all.map((x) => round3(x.databaseCpuMsPerStart)),
    };
    results[key] = r;
    console.log(
      `${label.padEnd(72)} ${r.startsPerSecond.toFixed(0).padStart(5)} starts/s [rounds ${r.roundsStartsPerSecond.join(', ')}]  p50 ${ms(r.p50)} p99 ${ms(r.p99)}${
        r.serverCpuMsPerStart === null ? '' : `  server CPU ${spread(all.map((x) => x.serverCpuMsPerStart))} ms/start`
      }${r.databaseCpuMsPerStart === null ? '' : `  database CPU ${spread(all.map((x) => x.databaseCpuMsPerStart))} ms/start`}`,
    );
  }
  for (const key of ['startApi2', 'startOlder2'].filter((k) => results[k])) console.log(`${key} / startBare2: ${(results[key].startsPerSecond / results.startBare2.startsPerSecond).toFixed(2)}x starts/s`);
}
