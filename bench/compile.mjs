// Compile and memory benchmark in Node (not part of the test run):
//   node --expose-gc bench/compile.mjs
// compile.1000: median time to validate and compile a 1,000-action, 10-deep flow, in a
// production build (NODE_ENV=production: no definition checks) and a development build, sampled in turn.
// memory.task1000: heap per live task of that flow, five steps in (1,000 tasks).
// BENCH_JSON=file also writes the figures as JSON.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// A fresh clone has no node_modules/.cache yet.
await mkdir(join(ROOT, 'node_modules/.cache'), { recursive: true });
const out = await mkdtemp(join(ROOT, 'node_modules/.cache/wayflow-bench-compile-'));
try {
  const load = async (mode) => {
    const outfile = join(out, `${mode}.mjs`);
    await build({
      entryPoints: [join(ROOT, 'bench/compile-bench.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      minify: mode === 'production',
      define: { 'process.env.NODE_ENV': JSON.stringify(mode) },
      outfile,
      logLevel: 'silent',
    });
    return import(pathToFileURL(outfile).href);
  };
  const production = await load('production');
  const development = await load('development');
  // The two builds share XState (and the heap): sampled in turn, the order swapped every sample, so neither meets a
  // colder engine or a fuller heap than the other (measured one after the other, the first ran 15% slower).
  const samplers = [production.compileSampler(), development.compileSampler()];
  const times = [[], []];
  for (let i = 0; i < Number(process.env.SAMPLES ?? 40); i++) {
    for (const which of i % 2 ? [1, 0] : [0, 1]) times[which].push(samplers[which].sample());
  }
  const compileProd = production.compileFigure(times[0], samplers[0]);
  const compileDev = development.compileFigure(times[1], samplers[1]);
  console.log(`compile of a 1,000-action, 10-deep flow: ${compileProd.median.toFixed(2)} ms (production build), ${compileDev.median.toFixed(2)} ms with the development checks (goal < 50 ms)`);
  const memory = await production.heapPerTask(Number(process.env.TASKS ?? 1000));
  console.log(`heap per live task of that flow, five steps in: ${(memory.bytesPerTask / 1024).toFixed(1)} KB (${memory.count} tasks)`);
  if (process.env.BENCH_JSON) await writeFile(process.env.BENCH_JSON, JSON.stringify({ compile: { production: compileProd, development: compileDev }, memory }, null, 2));
} finally {
  await rm(out, { recursive: true, force: true });
}
