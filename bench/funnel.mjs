// Funnel benchmark in Node (not part of the test run): node bench/funnel.mjs
// funnel.100k.pg / funnel.100k.pglite: median time of the funnel of a flow over 100,000 tasks (the outcomes the
// sweeper keeps, plus 1,000 live tasks), computed in SQL over their jsonb histories, against a plain SQL group-by of
// the same rows (tasks per last step) in the same run. Goals: < 1 s on PostgreSQL, < 3 s on PGlite.
// PostgreSQL is found as for the tests (test/helpers/test-database.mjs). Env: TASKS (default 100000), SAMPLES (default 5);
// BENCH_JSON=file writes the figures.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { resolveTestDatabase } from '../test/helpers/test-database.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
await mkdir(join(ROOT, 'node_modules/.cache'), { recursive: true });
const out = await mkdtemp(join(ROOT, 'node_modules/.cache/wayflow-bench-funnel-'));
const database = await resolveTestDatabase({ durable: true, loopbackOnly: true });
try {
  const outfile = join(out, 'funnel.mjs');
  await build({ entryPoints: [join(ROOT, 'bench/funnel-bench.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile, logLevel: 'silent' });
  const bench = await import(pathToFileURL(outfile).href);
  const tasks = Number(process.env.TASKS ?? 100_000);
  const samples = Number(process.env.SAMPLES ?? 5);
  const url = database.url;
  const ms = (v) => `${v.toFixed(0)} ms`;
  const result = {};
  for (const [name, measure] of [
    ['pg', () => bench.measurePostgres(url, tasks, 1000, samples)],
    ['pglite', () => bench.measurePglite(tasks, 1000, samples)],
  ]) {
    const m = await measure();
    result[name] = m;
    console.log(`${name}: funnel of ${m.started} tasks (${m.tasks} kept outcomes + ${m.live} live, ${m.steps} steps): median ${ms(m.funnelMs)}; plain group-by of the same rows ${ms(m.baselineMs)}`);
  }
  console.log(`measured on ${database.description}`);
  result.postgres = { version: database.version, description: database.description };
  if (process.env.BENCH_JSON) await writeFile(process.env.BENCH_JSON, JSON.stringify(result, null, 2));
} finally {
  await rm(out, { recursive: true, force: true });
  await database.stop();
}
