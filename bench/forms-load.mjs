// Load on the task list (not part of the test run), loopback only and bounded:
//   node bench/forms-load.mjs
// A server (`serveTasks` with automations on an in-memory PGlite) runs in a child process with
// INSTANCES (default 800, at most 5000) open instances of an order-approval automation whose form
// is assigned to the group `backoffice`. CLIENTS (default 8, at most 32) anonymous browser
// sessions (each keeps its cookie) call `GET /automations/forms` in a loop, as fast as answered,
// for DURATION_MS (default 10000, at most 30000), while a prober calls `GET /health` every 20 ms.
// Reported: /health latency p50/p95/p99 idle (the baseline, same run) and under the load, and
// the task-list answers per second by status. Scenarios: `idle`; `hammer` with the default
// limits; `hammer-unlimited` with every rate raised (the cost of the list alone).
// SOURCE=<dir> bundles the server from another checkout's `src` (e.g. the main branch, to
// compare before and after a change); its node_modules must resolve from this repository.
// BENCH_JSON=file also writes the figures as JSON.
import { fork } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleEntry } from './bundle.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const int = (name, fallback, max) => Math.max(1, Math.min(max, Number(process.env[name] ?? fallback)));

if (process.argv[2] === 'server') await serverMain(process.env.WAYFLOW_BENCH_BUNDLE, process.argv[3]);
else await benchMain();

// --- the server process --------------------------------------------------------------------------
async function serverMain(bundle, scenario) {
  const { PGlite, serveTasks, pgliteStorage, startServerAutomations, silentLogger, defineAutomation, flow, z } = await import(pathToFileURL(bundle).href);
  const order = defineAutomation('Order', {
    nodes: {
      received: flow.execute(),
      approve: flow.form(z.object({ ok: z.boolean() })).group('backoffice').describe('Approve the order'),
      end: flow.end(),
    },
  });
  const pg = await PGlite.create();
  const storage = await pgliteStorage({ db: pg });
  const running = await startServerAutomations({ definitions: [order], database: { kind: 'pglite', pg }, logger: silentLogger });
  for (let i = 0; i < Number(process.env.INSTANCES); i++) await running.runner.create(order, { n: i });
  const unbounded = { perSecond: 1e9, burst: 1e9 };
  const server = await serveTasks({
    storage,
    automations: { running, sync: {} },
    port: 0,
    hostname: '127.0.0.1',
    logger: silentLogger,
    ...(scenario === 'hammer-unlimited' ? { limits: { clientRate: unbounded, sessionRate: unbounded, readRate: unbounded, writeRate: unbounded } } : {}),
  });
  process.on('message', async (message) => {
    if (message.type === 'stop') {
      await running.stop();
      await server.close();
      process.exit(0);
    }
  });
  process.send({ type: 'ready', url: server.url });
}

// --- the load generator --------------------------------------------------------------------------
function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] * 10) / 10;
}

async function startServer(bundle, scenario, instances) {
  const child = fork(fileURLToPath(import.meta.url), ['server', scenario], {
    env: { ...process.env, WAYFLOW_BENCH_BUNDLE: bundle, INSTANCES: String(instances) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  process.once('exit', () => child.kill('SIGKILL'));
  const url = await new Promise((resolveUrl, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    child.on('message', (message) => message.type === 'ready' && resolveUrl(message.url));
  });
  return {
    url,
    stop: () =>
      new Promise((done) => {
        child.once('exit', done);
        child.send({ type: 'stop' });
      }),
  };
}

/** One anonymous browser session calling the task list until `until`; counts answers by status. */
async function hammer(url, until, statuses) {
  let cookie = null;
  while (Date.now() < until) {
    const response = await fetch(`${url}/automations/forms`, { headers: cookie ? { cookie } : {} });
    cookie ??= response.headers.get('set-cookie')?.split(';')[0] ?? null;
    await response.arrayBuffer();
    statuses[response.status] = (statuses[response.status] ?? 0) + 1;
    // A refused client waits as told, like a well-behaved one; then tries again.
    if (response.status === 429) await new Promise((tick) => setTimeout(tick, Number(response.headers.get('retry-after') ?? 1) * 1000));
  }
}

/** GET /health every 20 ms until `until`; resolves to the latencies in ms. */
async function probe(url, until) {
  const latencies = [];
  while (Date.now() < until) {
    const started = performance.now();
    const response = await fetch(`${url}/health`);
    await response.arrayBuffer();
    latencies.push(performance.now() - started);
    await new Promise((tick) => setTimeout(tick, 20));
  }
  return latencies.sort((a, b) => a - b);
}

async function benchMain() {
  const INSTANCES = int('INSTANCES', 800, 5000);
  const CLIENTS = int('CLIENTS', 8, 32);
  const DURATION_MS = int('DURATION_MS', 10_000, 30_000);
  const source = resolve(process.env.SOURCE ?? ROOT);
  const bundle = await bundleEntry(
    'wayflow-bench-forms-',
    `export { PGlite } from '@electric-sql/pglite';
     export { z } from 'zod';
     export { serveTasks, pgliteStorage, startServerAutomations, silentLogger } from '${join(source, 'src/server/index.ts')}';
     export { defineAutomation, flow } from '${join(source, 'src/automations/index.ts')}';`,
  );

  const results = [];
  for (const scenario of ['idle', 'hammer', 'hammer-unlimited']) {
    const server = await startServer(bundle, scenario, INSTANCES);
    // Warm-up: the first requests compile code paths and fill caches.
    for (let i = 0; i < 20; i++) await (await fetch(`${server.url}/health`)).arrayBuffer();
    const until = Date.now() + DURATION_MS;
    const statuses = {};
    const load = scenario === 'idle' ? [] : Array.from({ length: CLIENTS }, () => hammer(server.url, until, statuses));
    const latencies = await probe(server.url, until);
    await Promise.all(load);
    await server.stop();
    const seconds = DURATION_MS / 1000;
    const perSecond = Object.fromEntries(Object.entries(statuses).map(([status, count]) => [status, Math.round(count / seconds)]));
    const row = { scenario, healthP50: percentile(latencies, 50), healthP95: percentile(latencies, 95), healthP99: percentile(latencies, 99), probes: latencies.length, formsPerSecond: perSecond };
    results.push(row);
    console.log(JSON.stringify(row));
  }
  console.log(`\n${INSTANCES} open instances, ${CLIENTS} anonymous clients on GET /automations/forms, ${DURATION_MS / 1000} s per scenario, source ${source}`);
  console.log('| scenario | /health p50 | p95 | p99 | /automations/forms answers/s |');
  console.log('| --- | ---: | ---: | ---: | --- |');
  for (const row of results) {
    const answers = Object.entries(row.formsPerSecond).map(([status, n]) => `${n} × ${status}`).join(', ') || 'none';
    console.log(`| ${row.scenario} | ${row.healthP50} ms | ${row.healthP95} ms | ${row.healthP99} ms | ${answers} |`);
  }
  if (process.env.BENCH_JSON) await writeFile(process.env.BENCH_JSON, JSON.stringify({ instances: INSTANCES, clients: CLIENTS, durationMs: DURATION_MS, results }, null, 2));
}
