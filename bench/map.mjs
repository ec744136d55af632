// Process map benchmark in Node (not part of the test run): node bench/map.mjs
// map.rerender200: median time for `ProcessMap` (wayflow/react/map) to re-render a 200-node
// automation with new counts, flushed to the DOM (React production build, jsdom), against a
// hand-drawn SVG of the same nodes in the same run. Goal: < 16 ms (one frame).
// BENCH_JSON=file also writes the figures as JSON.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { JSDOM } from 'jsdom';

process.env.NODE_ENV = 'production';
const dom = new JSDOM('<!doctype html><html><body></body></html>');
Object.assign(globalThis, { window: dom.window, document: dom.window.document, navigator: dom.window.navigator, HTMLElement: dom.window.HTMLElement, Node: dom.window.Node });

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// A fresh clone has no node_modules/.cache yet.
await mkdir(join(ROOT, 'node_modules/.cache'), { recursive: true });
const out = await mkdtemp(join(ROOT, 'node_modules/.cache/wayflow-bench-map-'));
try {
  const outfile = join(out, 'map.mjs');
  await build({
    entryPoints: [join(ROOT, 'bench/map-bench.tsx')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    outfile,
    logLevel: 'silent',
  });
  const bench = await import(pathToFileURL(outfile).href);
  const result = bench.measure(Number(process.env.SAMPLES ?? 60));
  const ms = (v) => `${v.toFixed(2)} ms`;
  console.log(`process map of ${result.nodes} nodes, ${result.edges} edges: first render ${ms(result.map.first)} (the layout alone: ${ms(result.layoutMs)}, cold)`);
  console.log(`re-render with new counts: median ${ms(result.map.median)}, p95 ${ms(result.map.p95)} (goal < 16 ms)`);
  console.log(`baseline, the same nodes hand-drawn (no table, no names): median ${ms(result.baseline.median)}, p95 ${ms(result.baseline.p95)}`);
  if (process.env.BENCH_JSON) await writeFile(process.env.BENCH_JSON, JSON.stringify(result, null, 2));
} finally {
  await rm(out, { recursive: true, force: true });
}
