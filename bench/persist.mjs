// Persistence benchmark in real Chromium (not part of the test run):
//   node bench/persist.mjs [samples per round]
// 1. One submit → transition → persist cycle of a wayflow task on IndexedDB,
//    against a hand-written XState + idb baseline doing the same work, in the
//    same page and run, samples interleaved. Goal: ratio of medians ≤ 1.3.
//    The baseline keeps the same state (trail of visited steps with data snapshots,
//    inputs, visits, history) and the same expiry index; a second row compares with
//    a minimal baseline that keeps only data and history.
// 2. Restore of a task with ~100 KB of data from IndexedDB (load, validate, migrate,
//    restoreTask). Goal: median < 5 ms. Also the full openTask path for reference.
// 3. Unless SWEEPS=0: the cycle for flows of 10 to 1,000 actions, and the restore of tasks
//    of 1 KB to 1 MB, for the plots of bench/run.mjs.
// Chromium runs with a profile on disk (launchPersistentContext), so IndexedDB commits reach
// the disk as in a user's browser.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { describeChromium, resolveChromium } from '../test/helpers/chromium.mjs';

const samples = Number(process.argv[2] ?? 400);
// ROUNDS=n (default 5) repeats each submit measurement; BENCH_JSON=file also writes the figures as JSON.
// The browser is found as for the tests (CHROMIUM_PATH, /usr/bin/chromium, else the bundled
// @sparticuz/chromium; test/helpers/chromium.mjs); the first line and the JSON say which.
const entry = fileURLToPath(new URL('./persist-page.ts', import.meta.url));
const bundle = await build({ entryPoints: [entry], bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'chrome120', write: false, logLevel: 'silent' });
const script = bundle.outputFiles[0].contents;
const html = '<!doctype html><meta charset="utf-8"><title>bench</title><script type="module" src="/page.js"></script>';
// Cross-origin isolation gives performance.now() microsecond resolution instead of 100 µs.
const isolated = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
const server = createServer((request, response) => {
  if (request.url === '/page.js') response.writeHead(200, { 'content-type': 'text/javascript', ...isolated }).end(script);
  else response.writeHead(200, { 'content-type': 'text/html', ...isolated }).end(html);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const resolved = await resolveChromium();
// A profile on disk, as a real browser has: an off-the-record context (launch() + newPage()) keeps
// IndexedDB in memory, where durability settings change nothing and every side looks faster.
const profile = await mkdtemp(join(tmpdir(), 'wayflow-bench-profile-'));
const context = await chromium.launchPersistentContext(profile, { executablePath: resolved.executablePath, args: resolved.args });
const page = context.pages()[0] ?? (await context.newPage());
const version = (await (await context.newCDPSession(page)).send('Browser.getVersion')).product.replace(/^\D+\//, '');
const browserInfo = { source: resolved.source, path: resolved.executablePath, version, description: describeChromium(resolved, `Chromium ${version}`), profile: 'on disk' };
console.log(`measured in ${browserInfo.description}, profile on disk`);
try {
  page.on('pageerror', (error) => console.error('page error:', error.message));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => 'wayflowBench' in globalThis);
  const run = (name, ...args) => page.evaluate(([n, a]) => globalThis.wayflowBench[n](...a), [name, args]);
  await run('submitCycle', 60, 'strict'); // warm-up: JIT, database creation
  // Rounds in turn, so slow phases of a busy machine hit every configuration alike; the figure is the median round.
  const rounds = Number(process.env.ROUNDS ?? 5);
  const configurations = [
    ['submitStrict', 'strict durability', 'strict', true],
    ['submitRelaxed', 'relaxed durability', 'relaxed', true],
    ['submitMinimalBaseline', 'strict; baseline keeping only data + history, no back/prefill state', 'strict', false],
  ];
  const runs = Object.fromEntries(configurations.map(([key]) => [key, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [key, , durability, full] of configurations) runs[key].push(await run('submitCycle', samples, durability, full));
  }
  const middle = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const results = { chromium: browserInfo, samples, rounds };
  const ms = (v) => `${v.toFixed(3)} ms`;
  for (const [key, label] of configurations) {
    const all = runs[key];
    const r = { wayflow: middle(all.map((x) => x.wayflow)), baseline: middle(all.map((x) => x.baseline)), ratio: middle(all.map((x) => x.ratio)), ratios: all.map((x) => Number(x.ratio.toFixed(2))) };
    results[key] = r;
    console.log(
      `submit-transition-persist (${label}; ${rounds} rounds of ${samples}): wayflow ${ms(r.wayflow)}, XState+idb baseline ${ms(r.baseline)}, ratio ${r.ratio.toFixed(2)}x [rounds: ${r.ratios.join(', ')}] (goal ≤ 1.30x) ${r.ratio <= 1.3 ? 'ok' : 'OVER'}`,
    );
  }
  // A fresh page for restores, so the thousands of tasks of the submit rounds do not weigh on it.
  await page.reload();
  await page.waitForFunction(() => 'wayflowBench' in globalThis);
  await run('restore', 20); // warm-up
  results.restore = await run('restore', Math.max(50, samples / 2));
  const r = results.restore;
  console.log(`restore of a task with ${(r.dataBytes / 1024).toFixed(0)} KB of data (${(r.bytes / 1024).toFixed(0)} KB record with its trail) (${r.samples} samples): median ${ms(r.restore)}, XState+idb baseline ${ms(r.baseline)}, ratio ${r.ratio.toFixed(2)}x (goal ≤ 1.0x); full openTask (URL, tab claim, load, migrate, restore) ${ms(r.openTask)}, of which the tab claim (Web Lock + BroadcastChannel) ${ms(r.claim)}`);
  if (process.env.SWEEPS !== '0') {
    // Curves for the plots: cycle latency against flow size, restore time against task size.
    await page.reload();
    await page.waitForFunction(() => 'wayflowBench' in globalThis);
    await run('cycleBySize', [10], 40); // warm-up
    results.cycleBySize = await run('cycleBySize', [10, 30, 100, 300, 1000], Math.max(60, samples / 4));
    console.log(`cycle by flow size (actions: median / p95 ms): ${results.cycleBySize.map((r) => `${r.size}: ${r.median.toFixed(2)} / ${r.p95.toFixed(2)}`).join(', ')}`);
    results.restoreBySize = await run('restoreBySize', [1_000, 10_000, 100_000, 1_000_000], 30);
    console.log(`restore by task size (data bytes: median ms): ${results.restoreBySize.map((r) => `${Math.round(r.bytes / 1000)} KB: ${r.median.toFixed(2)}`).join(', ')}`);
  }
  if (process.env.BENCH_JSON) await writeFile(process.env.BENCH_JSON, JSON.stringify(results, null, 2));
} finally {
  await context.close();
  server.close();
  await rm(profile, { recursive: true, force: true });
}
