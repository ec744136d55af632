// Where a drain's CPU goes (not part of the test run; loopback only): for 1 and 2 `wayflow
// scheduler` processes, BACKLOG (default 20 000) instances of the benchmark automation fall due
// at once beside WAITING (default 10 000) waiting ones, and the drain is measured in CPU: the
// scheduler processes' and the database backends' user + system time (/proc) per step, with the
// backends' wait events sampled every few ms. With BASELINE_ROOT=<an older checkout> its
// scheduler runs too, alternating with this one round by round (ROUNDS, default 3), so both
// see the same machine load. Prints the cores busy, and how far 2 processes could scale over one at most on this
// machine: its cores over the CPU per step the two take, against one's steps/s in the same round. Each drain follows a
// warm-up drain of WARMUP instances (default 5 000) on the same processes and vacuumed tables. Database:
// DATABASE_URL, else as for the tests.
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/mine BASELINE_ROOT=../main node bench/automations-profile.mjs
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { resolveTestDatabase } from '../test/helpers/test-database.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));
const database = await resolveTestDatabase({ durable: true, loopbackOnly: true });
await mkdir(join(ROOT, 'node_modules/.cache'), { recursive: true });
const out = await mkdtemp(join(ROOT, 'node_modules/.cache/wayflow-bench-profile-'));
process.once('exit', () => rmSync(out, { recursive: true, force: true }));

/** Bundles a checkout's scheduler entry with this checkout's automations module. */
async function bundle(root, dir, extra = {}) {
  await build({
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outdir: join(out, dir),
    outExtension: { '.js': '.mjs' },
    logLevel: 'silent',
    ...extra,
    entryPoints: { main: join(root, 'src/server/automations/main.ts'), defs: join(ROOT, 'bench/automations-defs.ts'), ...extra.entryPoints },
    plugins:
      root === ROOT
        ? []
        : [{ name: 'baseline-sources', setup: (b) => b.onResolve({ filter: /^\.\.\/src\// }, (args) => ({ path: join(root, args.path.slice(3)) })) }],
  });
  return { label: root === ROOT ? 'this checkout' : root, mainPath: join(out, dir, 'main.mjs'), defsPath: join(out, dir, 'defs.mjs') };
}

try {
  const current = await bundle(ROOT, 'current', { entryPoints: { body: join(ROOT, 'bench/automations-profile-body.ts') } });
  const variants = [current];
  if (process.env.BASELINE_ROOT) variants.unshift(await bundle(process.env.BASELINE_ROOT, 'baseline'));
  const { profileDrain } = await import(pathToFileURL(join(out, 'current', 'body.mjs')).href);
  const backlog = Number(process.env.BACKLOG ?? 20_000);
  const waiting = Number(process.env.WAITING ?? 10_000);
  const processes = (process.env.PROCESSES ?? '1,2').split(',').map(Number);
  const results = [];
  for (let round = 1; round <= Number(process.env.ROUNDS ?? 3); round++) {
    for (const n of processes) {
      for (const variant of round % 2 ? variants : [...variants].reverse()) {
        const r = await profileDrain(database.url, variant, n, backlog, waiting);
        results.push({ round, ...r });
        console.log(JSON.stringify({ round, ...r }));
      }
    }
  }
  console.log(`\nmeasured on ${database.description}; median (min-max) over rounds`);
  console.log('| scheduler | processes | steps/s | node CPU µs/step | database CPU µs/step | bench monitor backend µs/step | cores busy |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  const cpuPerStep = (r) => r.nodeCpuPerStep + r.databaseCpuPerStep + r.monitorCpuPerStep;
  const coresBusy = (r) => ((r.stepsPerSecond * cpuPerStep(r)) / 1e6).toFixed(2);
  const stat = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    return `${sorted[Math.floor(sorted.length / 2)]} (${sorted[0]}-${sorted.at(-1)})`;
  };
  for (const variant of variants) {
    for (const n of processes) {
      const rs = results.filter((r) => r.variant === variant.label && r.processes === n);
      console.log(`| ${variant.label} | ${n} | ${stat(rs.map((r) => r.stepsPerSecond))} | ${stat(rs.map((r) => r.nodeCpuPerStep))} | ${stat(rs.map((r) => r.databaseCpuPerStep))} | ${stat(rs.map((r) => r.monitorCpuPerStep))} | ${stat(rs.map(coresBusy))} |`);
    }
  }
  // How far N processes could scale on this machine at most: its cores divided by the CPU the N take per step, in
  // steps/s, over what one process drained in the same round. Past that bound, more throughput needs less CPU per step.
  const single = (r) => results.find((o) => o.variant === r.variant && o.processes === 1 && o.round === r.round);
  for (const variant of variants) {
    for (const n of processes.filter((p) => p > 1)) {
      const rs = results.filter((r) => r.variant === variant.label && r.processes === n && single(r));
      if (rs.length === 0) continue;
      const ratio = rs.map((r) => (r.stepsPerSecond / single(r).stepsPerSecond).toFixed(2));
      const bound = rs.map((r) => (cpus().length / (cpuPerStep(r) * 1e-6) / single(r).stepsPerSecond).toFixed(2));
      console.log(`${variant.label}: ${n} processes / 1, by round: ${stat(ratio)}; at most ${stat(bound)} with ${cpus().length} cores at the CPU per step the ${n} take`);
    }
  }
} finally {
  await database.stop();
}
