// One benchmark command: `npm run bench` runs every area, `npm run bench -- <area> ...` some
// (areas: see bench/areas.mjs). Each area's script measures its baseline in the same run and
// writes its figures as JSON; this collects them into bench/results.json (figures of areas not
// run this time are kept, each with the date it was measured), draws bench/plots/*.svg and
// writes BENCHMARKS.md. Not part of `npm test` (the size budgets are).
// Env: BENCH_MACHINE describes the machine in the report (default: CPU model, cores, memory).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AREAS } from './areas.mjs';
import { renderReport } from './report.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = join(ROOT, 'bench/results.json');
const asked = process.argv.slice(2);
const unknown = asked.filter((area) => !(area in AREAS));
if (unknown.length > 0) {
  console.error(`Unknown benchmark area ${unknown.map((a) => `"${a}"`).join(', ')}. Areas: ${Object.keys(AREAS).join(', ')}.`);
  process.exit(2);
}
const areas = asked.length > 0 ? asked : Object.keys(AREAS);

const cpus = os.cpus();
const machine = process.env.BENCH_MACHINE ?? `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}; load average ${os.loadavg()[0].toFixed(1)} at the start`;
const previous = existsSync(RESULTS) ? JSON.parse(await readFile(RESULTS, 'utf8')) : { figures: {}, plots: {} };
const at = new Date().toISOString();
const results = { at, machine, node: process.version, chromium: previous.chromium ?? null, figures: { ...previous.figures }, plots: { ...(previous.plots ?? {}) }, areas: { ...(previous.areas ?? {}) } };
// Each area names the machine it was measured on: one kept from an earlier run keeps its machine (results written before
// areas named theirs name one machine, the last run's, for all).
for (const [area, kept] of Object.entries(results.areas)) results.areas[area] = { ...kept, machine: kept.machine ?? previous.machine ?? null };
const work = await mkdtemp(join(os.tmpdir(), 'wayflow-bench-'));
const failed = [];

/** Runs one area's script with its output passed through; resolves to its JSON figures. */
function runScript(area, spec) {
  const json = join(work, `${area}.json`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(spec.nodeArgs ?? []), join(ROOT, spec.script)], { cwd: ROOT, env: { ...process.env, BENCH_JSON: json }, stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', async (code, signal) => {
      if (code !== 0) return reject(new Error(`${spec.script} ended with ${signal ?? `exit code ${code}`}`));
      try {
        resolve(JSON.parse(await readFile(json, 'utf8')));
      } catch (error) {
        reject(new Error(`${spec.script} wrote no figures (BENCH_JSON): ${error.message}`));
      }
    });
  });
}

try {
  await mkdir(join(ROOT, 'bench/plots'), { recursive: true });
  for (const area of areas) {
    const spec = AREAS[area];
    console.log(`\n=== ${area}: ${spec.what} ===`);
    const started = Date.now();
    try {
      const json = await runScript(area, spec);
      for (const [id, value] of Object.entries(spec.figures(json))) if (value) results.figures[id] = { ...value, at, area };
      for (const [name, svg] of Object.entries(spec.plots?.(json) ?? {})) {
        await writeFile(join(ROOT, `bench/plots/${name}.svg`), svg);
        results.plots[name] = { file: `bench/plots/${name}.svg`, at, area };
      }
      if (spec.chromium) results.chromium = spec.chromium(json) ?? results.chromium;
      results.areas[area] = { at, seconds: Math.round((Date.now() - started) / 1000), what: spec.what, machine };
    } catch (error) {
      failed.push(`${area}: ${error.message}`);
      console.error(`\n${area} failed: ${error.message}`);
    }
  }
  await writeFile(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(join(ROOT, 'BENCHMARKS.md'), renderReport(results));
  console.log(`\nwrote bench/results.json, BENCHMARKS.md and ${Object.keys(results.plots).length} plots in bench/plots/`);
} finally {
  await rm(work, { recursive: true, force: true });
}
if (failed.length > 0) {
  console.error(`\n${failed.length} area(s) failed:\n${failed.join('\n')}`);
  process.exit(1);
}
