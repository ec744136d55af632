// Automations sync API benchmark (not part of the test run), loopback only and bounded:
//   node bench/sync.mjs
// One server (`serveTasks` with `automations: { running, sync }` on an in-memory PGlite,
// default sync options: pollMs 1000) runs in a child process forked from this file, so the
// load generator (this process) does not share its event loop. The automation is like the
// tests' SyncOrder: execute → form `approve` (group backoffice) → `{ browser: true }` message
// `approved` → end. Watchers are bearer-token users, one per watcher (one stream each).
// Per round and scenario: W watchers (default 50) each start an instance; then a back-office
// user submits the W forms over HTTP, SUBMITTERS requests at a time (default 4), in random order.
// Scenarios, rounds in turn so a slow phase of the machine hits all alike:
//   streams: each watcher holds `GET /automations/instances/:id/events` open; latency = when
//            its status event showing `approved`/finished arrived − when the submit request was sent;
//   polling: the baseline, the client's fallback: each watcher polls `GET /automations/instances/:id`
//            POLL_MS (default 1000) after each answer (one poll at once, the next at a random offset); same latency;
//   none:    no watchers, the same submissions.
// Every scenario also reports how long a submit took to be answered, submits/s while the back
// office submits, and the server process's CPU time per submit (what the watchers cost it).
// Then cross-process pickup: W streams on fresh instances, and a second runner on the same
// database that the server's hub never hears of (as in test/server/sync/events.test.ts; PGlite
// admits one process, so it lives in the server process but outside its effects) submits the
// forms one every ~40 ms: latency = stream arrival − that runner's commit (the hub's poller,
// pollMs 1000, must find it). And idle cost: server CPU over IDLE_MS with no watchers, with W
// clients polling and with W streams open, on instances that do not change.
// Env: WATCHERS (default 50, at most 200), ROUNDS (default 6, at most 20), SUBMITTERS (default 4,
// at most 32), POLL_MS (default 1000), IDLE_MS (default 3000, at most 10000), BENCH_JSON=file to
// also write the figures as JSON.
import { fork } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleEntry } from './bundle.mjs';

const ORIGIN = 'http://bench.test';
const int = (name, fallback, max) => Math.max(1, Math.min(max, Number(process.env[name] ?? fallback)));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

if (process.argv[2] === 'server') await serverMain(process.env.WAYFLOW_BENCH_BUNDLE);
else await benchMain();

// --- the server process --------------------------------------------------------------------------
async function serverMain(bundle) {
  const UNBOUNDED = { perSecond: 1e6, burst: 1e6 };
  const { PGlite, serveTasks, pgliteStorage, startServerAutomations, silentLogger, defineAutomation, flow, createAutomationRunner, z } = await import(pathToFileURL(bundle).href);
  const syncOrder = defineAutomation('SyncOrder', {
    verboseName: 'Order approval',
    nodes: {
      received: flow.execute((ctx) => {
        ctx.data.receivedAt = ctx.now;
      }),
      approve: flow
        .form(z.object({ decision: z.enum(['approve', 'reject']), note: z.string().min(1) }))
        .group('backoffice')
        .describe('Approve the order'),
      approved: flow.sendMessage({ browser: true }, 'approved', undefined, (ctx) => ({ note: ctx.data.approve.note })),
      end: flow.end(),
    },
  });
  const sync = {
    automations: {
      SyncOrder: {
        start: { schema: z.object({ item: z.string().min(1), qty: z.number().int().min(1) }), data: (input, caller) => ({ order: input, by: caller.owner }) },
        expose: (data) => ({ order: data.order }),
      },
    },
  };
  // Bearer tokens: `bo` is the back office, any other token is a plain user of that name.
  const authenticate = (request) => {
    const id = request.headers.get('authorization')?.replace(/^Bearer /, '');
    if (!id || !/^[\w-]{1,40}$/.test(id)) return null;
    return { id, credentials: 'header', ...(id === 'bo' ? { groups: ['backoffice'] } : {}) };
  };
  const pg = await PGlite.create();
  const storage = await pgliteStorage({ db: pg });
  const running = await startServerAutomations({ definitions: [syncOrder], database: { kind: 'pglite', pg }, logger: silentLogger });
  const server = await serveTasks({
    storage,
    authenticate,
    automations: { running, sync },
    port: 0,
    hostname: '127.0.0.1',
    logger: silentLogger,
    allowedOrigins: [ORIGIN],
    // Every watcher and submitter speaks from loopback: no per-address or per-caller bound may get in the way.
    limits: { writeRate: UNBOUNDED, readRate: UNBOUNDED, clientRate: UNBOUNDED, sessionRate: UNBOUNDED, streamsPerClient: 1e6, streams: 1e6 },
  });
  // "Another process": a runner on the same database whose effects the server never hears of.
  const other = createAutomationRunner({ storage: running.storage, automations: [syncOrder] });
  process.on('message', async (message) => {
    if (message.type === 'cpu') process.send({ type: 'cpu', seq: message.seq, usage: process.cpuUsage() });
    if (message.type === 'submit-other') {
      await other.submitForm(message.instanceId, { taskId: message.taskId }, { id: 'bo', groups: ['backoffice'] }, { decision: 'approve', note: 'elsewhere' });
      process.send({ type: 'submitted-other', seq: message.seq, committedAt: Date.now() });
    }
    if (message.type === 'stop') {
      await server.close();
      await running.stop();
      process.exit(0);
    }
  });
  process.send({ type: 'ready', url: server.url });
}

// --- the load generator --------------------------------------------------------------------------
async function benchMain() {
  const W = int('WATCHERS', 50, 200);
  const ROUNDS = int('ROUNDS', 6, 20);
  const SUBMITTERS = int('SUBMITTERS', 4, 32);
  const POLL_MS = int('POLL_MS', 1000, 10_000);
  const IDLE_MS = int('IDLE_MS', 3000, 10_000);
  const bundle = await bundleEntry(
    'wayflow-bench-sync-',
    `export { PGlite } from '@electric-sql/pglite';
     export { z } from 'zod';
     export { serveTasks, pgliteStorage, startServerAutomations, silentLogger } from './src/server/index.ts';
     export { defineAutomation, flow, createAutomationRunner } from './src/automations/index.ts';`,
  );

  const child = fork(fileURLToPath(import.meta.url), ['server'], { env: { ...process.env, WAYFLOW_BENCH_BUNDLE: bundle }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  process.once('exit', () => child.kill('SIGKILL'));
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));
  const replies = new Map();
  let seq = 0;
  let resolveReady;
  const ready = new Promise((resolve, reject) => {
    resolveReady = resolve;
    child.once('exit', (code) => reject(new Error(`the server process exited with ${code}`)));
  });
  child.on('message', (message) => {
    if (message.type === 'ready') resolveReady(message.url);
    else replies.get(message.seq)?.(message);
  });
  const ask = (message) =>
    new Promise((resolve) => {
      const id = ++seq;
      replies.set(id, (reply) => {
        replies.delete(id);
        resolve(reply);
      });
      child.send({ ...message, seq: id });
    });
  const serverCpuMs = async () => {
    const { usage } = await ask({ type: 'cpu' });
    return (usage.user + usage.system) / 1000;
  };
  const url = await ready;

  // --- HTTP helpers ------------------------------------------------------------------------------
  const request = (user, path, init = {}) =>
    fetch(`${url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${user}`, origin: ORIGIN, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
    });
  const json = async (response, what) => {
    if (!response.ok) throw new Error(`${what}: HTTP ${response.status} ${await response.text()}`);
    return response.json();
  };
  const done = (status) => status.status === 'finished' || status.messages.some((m) => m.message === 'approved');
  /** Runs `work(item)` over `items`, `n` at a time. */
  const pool = async (items, n, work) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(n, items.length) }, async () => {
        while (next < items.length) await work(items[next++]);
      }),
    );
  };
  let instanceCount = 0;
  /** Each of W watchers starts one instance (as itself, so it may watch it). */
  const startInstances = async () => {
    const watchers = Array.from({ length: W }, (_, i) => ({ user: `w${i}`, instance: null, sentAt: null, seenAt: null }));
    await pool(watchers, 4, async (w) => {
      const body = await json(
        await request(w.user, '/automations/start/SyncOrder', { method: 'POST', body: JSON.stringify({ input: { item: 'book', qty: 2 } }), headers: { 'idempotency-key': `k${++instanceCount}` } }),
        'start',
      );
      w.instance = body.instance;
    });
    return watchers;
  };

  /** Opens w's stream; resolves once the first status arrived; `w.finished` resolves after the end. */
  const openStream = async (w, clock = () => performance.now()) => {
    const response = await request(w.user, `/automations/instances/${w.instance.id}/events`);
    if (response.status !== 200) throw new Error(`events: HTTP ${response.status} ${await response.text()}`);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let first;
    const gotFirst = new Promise((resolve) => (first = resolve));
    w.finished = (async () => {
      let buffer = '';
      for (;;) {
        const { done: ended, value } = await reader.read();
        if (ended) return;
        buffer += decoder.decode(value, { stream: true });
        let cut = buffer.indexOf('\n\n');
        while (cut >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          cut = buffer.indexOf('\n\n');
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data += line.slice(5).replace(/^ /, '');
          }
          if (event !== 'status') continue;
          const status = JSON.parse(data);
          if (w.seenAt === null && done(status)) w.seenAt = clock();
          first();
        }
      }
    })();
    w.cancel = () => reader.cancel().catch(() => undefined);
    await gotFirst;
  };

  /** Polls w's instance: first at once, then a random offset, then POLL_MS after each answer, until done. */
  const startPolling = async (w) => {
    let stopped = false;
    const poll = async () => {
      const { instance } = await json(await request(w.user, `/automations/instances/${w.instance.id}`), 'poll');
      if (w.seenAt === null && done(instance)) {
        w.seenAt = performance.now();
        stopped = true;
      }
    };
    await poll();
    w.finished = (async () => {
      await sleep(Math.random() * POLL_MS);
      while (!stopped) {
        await poll();
        if (!stopped) await sleep(POLL_MS);
      }
    })();
    w.cancel = () => {
      stopped = true;
    };
  };

  /** The back office submits every watcher's form, SUBMITTERS at a time, in random order. */
  const submitAll = async (watchers) => {
    const order = [...watchers].sort(() => Math.random() - 0.5);
    const cpu0 = await serverCpuMs();
    const t0 = performance.now();
    await pool(order, SUBMITTERS, async (w) => {
      const path = `/automations/forms/${w.instance.id}/${w.instance.forms[0].taskId}`;
      w.sentAt = performance.now();
      await json(await request('bo', path, { method: 'POST', body: JSON.stringify({ input: { decision: 'approve', note: 'Ship it' } }) }), 'submit');
      w.answeredAt = performance.now();
    });
    const t1 = performance.now();
    const cpu1 = await serverCpuMs();
    return { ms: t1 - t0, cpuMs: cpu1 - cpu0, submits: order.length };
  };

  /** Waits for every watcher to see its instance done (at most `ms`), then stops them. */
  const settle = async (watchers, ms) => {
    const deadline = performance.now() + ms;
    while (watchers.some((w) => w.seenAt === null) && performance.now() < deadline) await sleep(10);
    for (const w of watchers) w.cancel?.();
    await Promise.all(watchers.map((w) => w.finished?.catch(() => undefined)));
  };

  const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : Number.NaN);
  const summary = (values, expected) => {
    const sorted = [...values].sort((a, b) => a - b);
    const r = (v) => Math.round(v * 10) / 10;
    return { samples: sorted.length, missed: expected - sorted.length, p50: r(percentile(sorted, 50)), p95: r(percentile(sorted, 95)), p99: r(percentile(sorted, 99)), max: r(sorted.at(-1) ?? Number.NaN) };
  };

  const started = Date.now();
  const results = {
    node: process.version,
    cpus: os.cpus().length,
    loadAverageAtStart: os.loadavg()[0],
    watchers: W,
    rounds: ROUNDS,
    submitters: SUBMITTERS,
    pollMs: POLL_MS,
    server: 'child process, serveTasks on in-memory PGlite, default sync options (pollMs 1000)',
  };
  console.error(
    `${W} watchers, ${ROUNDS} rounds, ${SUBMITTERS} concurrent submitters, clients poll every ${POLL_MS} ms; ${results.cpus} CPUs (load ${results.loadAverageAtStart.toFixed(1)}); Node ${process.version}`,
  );

  // Warm-up: one untimed round of each, so JIT and PGlite caches do not land on the first scenario.
  {
    const watchers = await startInstances();
    await Promise.all(watchers.map((w) => openStream(w)));
    await submitAll(watchers);
    await settle(watchers, 3000);
    await submitAll(await startInstances());
  }

  // --- push latency, polling baseline, throughput --------------------------------------------------
  const scenarios = ['streams', 'polling', 'none'];
  const runs = Object.fromEntries(scenarios.map((s) => [s, { latencies: [], answers: [], afterAnswer: [], ms: 0, cpuMs: 0, submits: 0, perRound: [] }]));
  for (let round = 0; round < ROUNDS; round++) {
    // Rotated per round, so no scenario always comes first.
    for (const scenario of [...scenarios.slice(round % 3), ...scenarios.slice(0, round % 3)]) {
      const watchers = await startInstances();
      if (scenario === 'streams') await Promise.all(watchers.map((w) => openStream(w)));
      if (scenario === 'polling') await Promise.all(watchers.map((w) => startPolling(w)));
      const submitted = await submitAll(watchers);
      if (scenario !== 'none') await settle(watchers, POLL_MS * 3 + 2000);
      const run = runs[scenario];
      for (const w of watchers) {
        run.answers.push(w.answeredAt - w.sentAt);
        if (w.seenAt !== null && scenario !== 'none') {
          run.latencies.push(w.seenAt - w.sentAt);
          run.afterAnswer.push(w.seenAt - w.answeredAt);
        }
      }
      run.ms += submitted.ms;
      run.cpuMs += submitted.cpuMs;
      run.submits += submitted.submits;
      run.perRound.push(Math.round(submitted.submits / (submitted.ms / 1000)));
    }
    console.error(`round ${round + 1}/${ROUNDS} done`);
  }
  for (const scenario of scenarios) {
    const run = runs[scenario];
    results[scenario] = {
      latencyMs: scenario === 'none' ? null : summary(run.latencies, W * ROUNDS),
      submitAnswerMs: summary(run.answers, run.submits),
      // When the watcher saw it − when the submitter got its answer (negative: the push came first).
      seenAfterAnswerMs: scenario === 'none' ? null : summary(run.afterAnswer, W * ROUNDS),
      // The median round: a round is ~1 s of submissions, and a busy moment of the machine skews one.
      submitsPerSecond: [...run.perRound].sort((a, b) => a - b)[Math.floor(run.perRound.length / 2)],
      submitsPerSecondOverall: Math.round(run.submits / (run.ms / 1000)),
      submitsPerSecondPerRound: run.perRound,
      serverCpuMsPerSubmit: Math.round((run.cpuMs / run.submits) * 100) / 100,
    };
  }

  // --- idle cost and cross-process pickup ----------------------------------------------------------
  const idleCpu = async () => {
    const cpu0 = await serverCpuMs();
    await sleep(IDLE_MS);
    return Math.round(((await serverCpuMs()) - cpu0) / (IDLE_MS / 1000));
  };
  const idleNone = await idleCpu();
  const cross = await startInstances();
  await Promise.all(cross.map((w) => startPolling(w)));
  const idlePolling = await idleCpu();
  for (const w of cross) w.cancel();
  await Promise.all(cross.map((w) => w.finished));
  await Promise.all(cross.map((w) => openStream(w, () => Date.now())));
  const idleStreams = await idleCpu();
  results.idleServerCpuMsPerSecond = { none: idleNone, streams: idleStreams, polling: idlePolling, idleMs: IDLE_MS };
  const commits = [];
  for (const w of cross) {
    commits.push(ask({ type: 'submit-other', instanceId: w.instance.id, taskId: w.instance.forms[0].taskId }).then((reply) => (w.sentAt = reply.committedAt)));
    await sleep(20 + Math.random() * 40);
  }
  await Promise.all(commits);
  await settle(cross, 1000 * 3 + 2000);
  const crossLatencies = cross.filter((w) => w.seenAt !== null).map((w) => w.seenAt - w.sentAt);
  results.crossProcess = { ...summary(crossLatencies, W), withinPollMs: crossLatencies.filter((v) => v <= 1000).length, serverPollMs: 1000 };

  // --- report ----------------------------------------------------------------------------------------
  const lat = (l) => `${l.p50} / ${l.p95} / ${l.p99} / ${l.max} ms${l.missed ? ` (${l.missed} missed)` : ''}`;
  console.log(`\n| scenario (${W} watchers, ${ROUNDS} rounds) | latency p50 / p95 / p99 / max | samples | submit answered p50 / p99 | seen − answered p50 / p99 | submits/s median [rounds] | server CPU per submit |`);
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  const labels = { streams: `${W} SSE streams (push)`, polling: `baseline: ${W} pollers every ${POLL_MS} ms`, none: 'no watchers' };
  for (const scenario of scenarios) {
    const r = results[scenario];
    console.log(
      `| ${labels[scenario]} | ${r.latencyMs ? lat(r.latencyMs) : '–'} | ${r.latencyMs?.samples ?? '–'} | ${r.submitAnswerMs.p50} / ${r.submitAnswerMs.p99} ms | ${r.seenAfterAnswerMs ? `${r.seenAfterAnswerMs.p50} / ${r.seenAfterAnswerMs.p99} ms` : '–'} | ${r.submitsPerSecond} [${r.submitsPerSecondPerRound.join(', ')}] | ${r.serverCpuMsPerSubmit} ms |`,
    );
  }
  const c = results.crossProcess;
  console.log(`| cross-process pickup (other runner, server pollMs 1000) | ${lat(c)} | ${c.samples} (${c.withinPollMs} within 1000 ms) | – | – | – | – |`);
  console.log(
    `\nidle server CPU (nothing changes): ${idleNone} ms/s with no watchers, ${idleStreams} ms/s with ${W} streams open, ${idlePolling} ms/s with ${W} clients polling every ${POLL_MS} ms (over ${IDLE_MS} ms each)`,
  );
  results.loadAverageAtEnd = os.loadavg()[0];
  results.totalSeconds = Math.round((Date.now() - started) / 1000);
  console.error(`total ${results.totalSeconds} s, load average at the end ${results.loadAverageAtEnd.toFixed(1)} (the load generator and the server share these CPUs)`);
  if (process.env.BENCH_JSON) await writeFile(process.env.BENCH_JSON, JSON.stringify(results, null, 2));
  await new Promise((resolve) => {
    child.once('exit', resolve);
    child.send({ type: 'stop' });
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}
