// Tasks API benchmark (not part of the test run), loopback only and bounded:
//   node bench/server.mjs
// Each virtual user has its own session and task and loops PUT (If-Match) then GET,
// for DURATION_MS after a WARMUP_MS warm-up. Scenarios: PGlite behind one server
// process; PostgreSQL behind one and two server processes (users alternate between
// them on every request). Baselines in the same run: a bare node:http server
// (bench/server-baseline.mjs) doing the same conditional SQL without Hono, sessions,
// validation, rate limit or logs, in as many processes; and the same SQL sent
// straight to the database from the load process, without HTTP.
// Env: VUS (default 16, at most 64), DURATION_MS (default 5000, at most 30000), ROUNDS (default 3, at most 10),
// WARMUP_MS (default 1000), BENCH_JSON=file to also write the figures as JSON.
// PostgreSQL is found as for the tests (test/helpers/test-database.mjs): DATABASE_URL if set,
// else 127.0.0.1:5432/test if it answers, else a throwaway embedded cluster (with fsync on, like
// a real server); the first line and the JSON say which, since their figures differ.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { build } from 'esbuild';
import pg from 'pg';
import { resolveTestDatabase } from '../test/helpers/test-database.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Exit through process.exit on a signal, so a throwaway cluster is stopped on the way out.
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));
const VUS = Math.min(64, Number(process.env.VUS ?? 16));
const DURATION_MS = Math.min(30_000, Number(process.env.DURATION_MS ?? 5000));
const WARMUP_MS = Math.min(10_000, Number(process.env.WARMUP_MS ?? 1000));
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

/** Runs `step(vu)` (one put+get, timing each) for every virtual user until the time is up. */
async function drive(users, step) {
  const timings = { put: [], get: [] };
  let pairs = 0;
  // Judged by the clock, not a timer: an in-process database may never yield to timers.
  const measureFrom = performance.now() + WARMUP_MS;
  const stopAt = measureFrom + DURATION_MS;
  await Promise.all(
    users.map(async (user) => {
      while (performance.now() < stopAt) {
        const t0 = performance.now();
        await step.put(user);
        const t1 = performance.now();
        await step.get(user);
        const t2 = performance.now();
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
  return { pairsPerSecond: pairs / seconds, requestsPerSecond: (2 * pairs) / seconds, put: summary(timings.put), get: summary(timings.get) };
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

const users = () => Array.from({ length: VUS }, (_, index) => ({ id: taskId(), binder: `bench-${index}`, version: 0, cookie: null }));

// --- servers -------------------------------------------------------------------------------------
await mkdir(join(ROOT, 'node_modules/.cache'), { recursive: true });
const work = await mkdtemp(join(ROOT, 'node_modules/.cache/wayflow-bench-'));
const cli = join(work, 'cli.mjs');
await build({ entryPoints: [join(ROOT, 'src/server/cli.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: cli, logLevel: 'silent' });
const children = new Set();

function startServer(args, env = {}) {
  return startProcess([cli, 'serve', '--host', '127.0.0.1', '--port', '0', '--write-rate', '1000000', '--read-rate', '1000000', '--client-rate', '1000000', '--session-rate', '1000000', '--origin', ORIGIN, '--log-level', 'warn', ...args], env);
}

const startBaseline = (...args) => startProcess([fileURLToPath(new URL('./server-baseline.mjs', import.meta.url)), ...args]);

function startProcess(argv, env = {}) {
  const child = spawn(process.execPath, argv, {
    env: { ...process.env, DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) if (line.includes('"msg":"wayflow serve started"')) resolve(JSON.parse(line).url);
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
const results = {
  vus: VUS,
  durationMs: DURATION_MS,
  rounds: ROUNDS,
  node: process.version,
  postgres: { source: database.source, version: database.version, description: database.description },
  cpus: os.cpus().length,
  loadAverageAtStart: os.loadavg()[0],
};
const ms = (v) => `${v.toFixed(1)} ms`;
const middle = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const admin = new pg.Client({ connectionString: DATABASE_URL });
try {
  console.log(`measured on ${database.description}`);
  console.log(
    `${VUS} virtual users; ${ROUNDS} rounds of ${DURATION_MS} ms per scenario after ${WARMUP_MS} ms warm-up; ${results.cpus} CPUs (load average ${results.loadAverageAtStart.toFixed(1)}); Node ${process.version}`,
  );
  // Every server runs for the whole benchmark (idle while others are measured); PGlite: one process per data folder.
  const env = { DATABASE_URL };
  const pgliteApi = await startServer(['--data', join(work, 'pglite')]);
  const pgliteBare = await startBaseline(join(work, 'pglite-bare'));
  const postgresApi = [await startServer(['--schema', SCHEMA], env), await startServer(['--schema', SCHEMA], env)];
  const postgresBare = [await startBaseline(DATABASE_URL, `${SCHEMA}_bare`), await startBaseline(DATABASE_URL, `${SCHEMA}_bare`)];
  // Same kind of database as the server's: a data folder on disk.
  const embedded = await PGlite.create(join(work, 'pglite-direct'));
  await embedded.exec(`CREATE TABLE wayflow_tasks (owner text NOT NULL, id text NOT NULL, binder text NOT NULL, version integer NOT NULL, record text NOT NULL,
    summary text NOT NULL, last_active_at double precision NOT NULL, expires_at double precision NOT NULL, idle_until double precision NOT NULL, PRIMARY KEY (owner, id))`);
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10, options: `-c search_path=${SCHEMA}` });

  const scenarios = [
    ['pgliteApi', 'API on PGlite, 1 server process', () => httpStep([pgliteApi])],
    ['pgliteBareHttp', '  baseline: bare node:http + same SQL, PGlite', () => httpStep([pgliteBare])],
    ['pgliteDirect', '  baseline: same SQL, PGlite in-process, no HTTP', () => sqlStep(async (text, params) => (await embedded.query(text, params)).rows)],
    ['postgresApi1', 'API on PostgreSQL, 1 server process', () => httpStep(postgresApi.slice(0, 1))],
    ['postgresApi2', 'API on PostgreSQL, 2 server processes', () => httpStep(postgresApi)],
    ['postgresBareHttp2', '  baseline: bare node:http + same SQL, PG, 2 processes', () => httpStep(postgresBare)],
    ['postgresDirect', '  baseline: same SQL, pg pool, no HTTP', () => sqlStep(async (text, params) => (await pool.query(text, params)).rows)],
  ];
  // Rounds in turn, so slow phases of a busy machine hit every scenario alike; each figure is the median round.
  const runs = Object.fromEntries(scenarios.map(([key]) => [key, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [key, , step] of scenarios) runs[key].push(await drive(users(), step()));
  }
  for (const [key, label] of scenarios) {
    const all = runs[key];
    const r = {
      pairsPerSecond: middle(all.map((x) => x.pairsPerSecond)),
      put: { p50: middle(all.map((x) => x.put.p50)), p99: middle(all.map((x) => x.put.p99)) },
      get: { p50: middle(all.map((x) => x.get.p50)), p99: middle(all.map((x) => x.get.p99)) },
      roundsPairsPerSecond: all.map((x) => Math.round(x.pairsPerSecond)),
    };
    results[key] = r;
    console.log(
      `${label.padEnd(56)} ${r.pairsPerSecond.toFixed(0).padStart(5)} put+get/s [rounds ${r.roundsPairsPerSecond.join(', ')}]  put p50 ${ms(r.put.p50)} p99 ${ms(r.put.p99)}  get p50 ${ms(r.get.p50)} p99 ${ms(r.get.p99)}`,
    );
  }
  results.loadAverageAtEnd = os.loadavg()[0];
  console.log(`load average at the end: ${results.loadAverageAtEnd.toFixed(1)} (the load generator, servers and database share these CPUs)`);
  await pool.end();
  await embedded.close();
  if (process.env.BENCH_JSON) await writeFile(process.env.BENCH_JSON, JSON.stringify(results, null, 2));
} finally {
  await stopAll();
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA}_bare CASCADE`);
  await admin.end();
  await rm(work, { recursive: true, force: true });
  await database.stop();
}
