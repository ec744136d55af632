// Automation scheduler benchmark (not part of the test run), loopback only and bounded:
//   node bench/automations.mjs
// Per scenario: WAITING instances (default 10 000) wait far in the future all along. Then
// PROBES instances (default 1000) fall due spread over WINDOW_MS (default 10 000): timer
// lateness = when the node ran − its due time (p50/p99). Then BACKLOG instances (default
// 3000) fall due at the same moment: automation steps per second while they drain
// (two steps per instance: the timed node, then the end). Scenarios (SCENARIOS, comma-separated):
// sql (baseline in the same run: the least SQL a step needs, sent straight from one
// connection, no engine), pglite (one in-process scheduler), pg1 and pg2 (one and two
// `wayflow scheduler` processes on PostgreSQL). Env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test),
// BENCH_JSON=file to also write the figures as JSON.
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
if (!/^postgres(ql)?:\/\/[^/]*@?(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(DATABASE_URL)) {
  throw new Error(`The benchmark only talks to a loopback database; DATABASE_URL is ${DATABASE_URL.replace(/\/\/[^@/]*@/, '//')}.`);
}
// Exit through process.exit on a signal, so the scheduler processes are killed on the way out.
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));
const int = (name, fallback, max) => Math.min(max, Number(process.env[name] ?? fallback));

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
  const started = Date.now();
  const results = await runBench({
    databaseUrl: DATABASE_URL,
    mainPath: join(out, 'main.mjs'),
    defsPath: join(out, 'defs.mjs'),
    waiting: int('WAITING', 10_000, 100_000),
    probes: int('PROBES', 1000, 10_000),
    windowMs: int('WINDOW_MS', 10_000, 60_000),
    backlog: int('BACKLOG', 3000, 100_000),
    scenarios: (process.env.SCENARIOS ?? 'sql,pglite,pg1,pg2').split(','),
    log: (line) => console.error(line),
  });
  console.log(`\n| scenario | creates/s (API) | steps/s (backlog drain) | drain | timer lateness p50 / p99 / max |`);
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    const late = r.lateness ? `${r.lateness.p50} / ${r.lateness.p99} / ${r.lateness.max} ms (${r.lateness.probes} probes)` : '–';
    console.log(`| ${r.scenario} | ${r.createPerSecond ?? '–'} | ${r.stepsPerSecond} | ${r.backlog} in ${r.drainMs} ms | ${late} |`);
  }
  console.error(`total ${Math.round((Date.now() - started) / 1000)} s, node ${process.version}`);
  if (process.env.BENCH_JSON) await writeFile(process.env.BENCH_JSON, JSON.stringify(results, null, 2));
} finally {
  await rm(out, { recursive: true, force: true });
}
