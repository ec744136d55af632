// Automation scheduler benchmark (not part of the test run), loopback only and bounded:
//   node bench/automations.mjs
// Per scenario: WAITING instances (default 10 000) wait far in the future all along. Then
// PROBES instances (default 1000) fall due spread over WINDOW_MS (default 10 000): timer
// lateness = when the node ran − its due time (p50/p99). Then BACKLOG instances (default
// 20 000: long enough that a drain lasts seconds and start-up costs do not decide how
// processes scale) fall due at the same moment: automation steps per second while they drain
// (two steps per instance: the timed node, then the end), DRAIN_ROUNDS times (default 3, a fresh backlog each on the
// same processes; the figure is the median drain, all are printed). Scenarios (SCENARIOS, comma-separated):
// sql (baseline in the same run: the least SQL a step needs, sent straight from one
// connection, no engine), pglite (one in-process scheduler), pg1, pg2 and pg4 (one, two and four
// `wayflow scheduler` processes on PostgreSQL), and pgboss (the yardstick in the same run: pg-boss 12
// draining the same backlog with as many workers as each pgN scenario has processes,
// bench/pgboss-baseline.mjs), and flow1 (flowcontrol runs continued per second by one
// `wayflow scheduler` process on PostgreSQL). With BASELINE_ROOT=<an older checkout>, flow1 and
// pg1 run first on that checkout's scheduler process: the baseline in the same run.
// Env: BENCH_JSON=file to also write the figures as JSON.
// PostgreSQL is found as for the tests (test/helpers/test-database.mjs): DATABASE_URL if set,
// else 127.0.0.1:5432/test if it answers, else a throwaway embedded cluster (with fsync on, like
// a real server); the output and the JSON say which, since their figures differ.
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { resolveTestDatabase } from '../test/helpers/test-database.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Exit through process.exit on a signal, so the scheduler processes and a throwaway cluster are stopped on the way out.
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));
const int = (name, fallback, max) => Math.min(max, Number(process.env[name] ?? fallback));
const scenarios = (process.env.SCENARIOS ?? 'sql,pglite,pg1,pg2,pg4,pgboss').split(',');
const database = scenarios.some((scenario) => scenario !== 'pglite') ? await resolveTestDatabase({ durable: true, loopbackOnly: true }) : null;

// Bundled inside the repository (bare imports resolve to node_modules), with one shared chunk
// so the scheduler processes and this process run the same engine.
await mkdir(join(ROOT, 'node_modules/.cache'), { recursive: true });
const out = await mkdtemp(join(ROOT, 'node_modules/.cache/wayflow-bench-automations-'));
process.once('exit', () => rmSync(out, { recursive: true, force: true }));
try {
  await build({
    entryPoints: {
      main: join(ROOT, 'src/server/automations/main.ts'),
      defs: join(ROOT, 'bench/automations-defs.ts'),
      bench: join(ROOT, 'bench/automations-bench.ts'),
    },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outdir: out,
    outExtension: { '.js': '.mjs' },
    logLevel: 'silent',
  });
  const { runBench } = await import(pathToFileURL(join(out, 'bench.mjs')).href);
  // The flow1 and pg1 baseline: the scheduler and the same defs module built from BASELINE_ROOT's sources.
  let baseline;
  if (process.env.BASELINE_ROOT && (scenarios.includes('flow1') || scenarios.includes('pg1'))) {
    const base = process.env.BASELINE_ROOT;
    const baseOut = join(out, 'baseline');
    await build({
      entryPoints: { main: join(base, 'src/server/automations/main.ts'), defs: join(ROOT, 'bench/automations-defs.ts') },
      bundle: true,
      splitting: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      outdir: baseOut,
      outExtension: { '.js': '.mjs' },
      logLevel: 'silent',
      plugins: [
        {
          name: 'baseline-sources',
          setup(b) {
            b.onResolve({ filter: /^\.\.\/src\// }, (args) => ({ path: join(base, args.path.slice(3)) }));
          },
        },
      ],
    });
    baseline = { mainPath: join(baseOut, 'main.mjs'), defsPath: join(baseOut, 'defs.mjs'), label: base };
  }
  const started = Date.now();
  const results = await runBench({
    databaseUrl: database?.url ?? '',
    mainPath: join(out, 'main.mjs'),
    defsPath: join(out, 'defs.mjs'),
    ...(baseline ? { baseline } : {}),
    waiting: int('WAITING', 10_000, 100_000),
    probes: int('PROBES', 1000, 10_000),
    windowMs: int('WINDOW_MS', 10_000, 60_000),
    backlog: int('BACKLOG', 20_000, 100_000),
    drainRounds: int('DRAIN_ROUNDS', 3, 10),
    scenarios,
    log: (line) => console.error(line),
  });
  const pgBoss = [];
  if (scenarios.includes('pgboss')) {
    const { pgBossDrain } = await import('./pgboss-baseline.mjs');
    for (const workers of [1, 2, 4]) {
      const r = await pgBossDrain({ databaseUrl: database.url, workers, jobs: int('BACKLOG', 20_000, 100_000) });
      console.error(`pg-boss 12, ${workers} worker${workers > 1 ? 's' : ''}: ${r.jobs} jobs drained in ${r.drainMs} ms = ${r.jobsPerSecond} jobs/s (sent one by one at ${r.sendPerSecond}/s)`);
      pgBoss.push(r);
    }
  }
  if (database) console.log(`\nmeasured on ${database.description}`);
  console.log(`\n| scenario | creates/s (API) | steps/s (backlog drain) | drain | timer lateness p50 / p99 / max |`);
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    const late = r.lateness ? `${r.lateness.p50} / ${r.lateness.p99} / ${r.lateness.max} ms (${r.lateness.probes} probes)` : '–';
    console.log(`| ${r.scenario} | ${r.createPerSecond ?? '–'} | ${r.stepsPerSecond} | ${r.backlog} in ${r.drainMs} ms | ${late} |`);
  }
  for (const r of pgBoss) console.log(`| yardstick: pg-boss 12, ${r.workers} worker${r.workers > 1 ? 's' : ''} (batches of ${r.batchSize}) | ${r.sendPerSecond} (send) | ${r.jobsPerSecond} jobs/s | ${r.jobs} in ${r.drainMs} ms | – |`);
  console.error(`total ${Math.round((Date.now() - started) / 1000)} s, node ${process.version}`);
  const postgres = database && { source: database.source, version: database.version, description: database.description };
  if (process.env.BENCH_JSON) await writeFile(process.env.BENCH_JSON, JSON.stringify({ postgres, scenarios: results, pgBoss }, null, 2));
} finally {
  await rm(out, { recursive: true, force: true });
  await database?.stop();
}
