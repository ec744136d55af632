// The peers race (not part of the test run):  npm run bench -- peers   (or node bench/peers/run.mjs)
// The same 5-step persisted checkout (labelled inputs, zod schemas, React 19, every step
// committed to IndexedDB with strict durability before the next heading shows) written with
// wayflow and with three peers, in headless Chromium with an on-disk profile
// (launchPersistentContext: IndexedDB on disk as for a real user) and a cross-origin isolated
// page (microsecond timers). After a warm-up, contenders run in ROUNDS rounds (default 10) of
// PASSES checkouts each (default 12, so 600 steps per contender), the order rotated each round.
// A step is timed from the click on "Continue" to the next heading in the DOM. Then the same run
// profiles wayflow's steps (where the time goes) and races the React-free submit cycle of
// bench/persist-page.ts (wayflow vs a hand-written XState + idb wizard), strict and relaxed.
// BASELINE=<root of another checkout> (e.g. a clean clone of main) adds wayflow as that checkout
// builds it ("before", bench/peers/before.ts) to the same rounds, so a change is measured against
// its baseline in the same run; its ratio to this checkout is printed, and kept in the detail only. The one listed
// first tends to be the slower: BEFORE_FIRST=1 lists the baseline first, and a change is measured in both orders.
// Step times are also printed by step (a checkout's first step, right after its task opened, apart from the others).
// Prints the figures and writes them with the detail (phases, commits per step) to bench/peers/results.json, or to
// BENCH_JSON (as `npm run bench -- peers` does, which publishes peers.* in bench/results.json and BENCHMARKS.md).
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describeChromium } from '../../test/helpers/chromium.mjs';
import { baseline, bundlePage, openPage, pageHtml, warmedUp } from './page-bundle.mjs';

const rounds = Number(process.env.ROUNDS ?? 10);
const perRound = Number(process.env.PASSES ?? 12);
const cycleSamples = Number(process.env.CYCLE_SAMPLES ?? 300);
const output = process.env.BENCH_JSON ?? fileURLToPath(new URL('./results.json', import.meta.url));
/** VARIANTS=wf-slim,wf-peerstore (comma-separated) also races wayflow's page on bench-only stores (bench/peers/store-variants.ts) or with less of its page (bench/peers/frame-variants.tsx): each is compared with wayflow, never counted a peer. */
const variants = process.env.VARIANTS ? process.env.VARIANTS.split(',') : [];
const names = [...(baseline && process.env.BEFORE_FIRST ? ['before', 'wayflow'] : ['wayflow', ...(baseline ? ['before'] : [])]), ...variants, 'xstate', 'rsw', 'stepperize'];
const labels = {
  wayflow: 'wayflow (FlowView, StepForm, indexedDbStore)',
  before: `wayflow before (${baseline})`,
  xstate: 'XState 5 + @xstate/react + idb by hand',
  rsw: 'react-use-wizard + idb by hand',
  stepperize: '@stepperize/react + idb by hand',
  'wf-slim': "wayflow's page, store writing a peer's record with wayflow's compare-and-set",
  'wf-peerstore': "wayflow's page, store writing a peer's record as the peers do (a put alone)",
};

// The race runs React's production build; commits are counted in a second page with its profiling build (Profiler works there only).
const scripts = {
  '/page.js': await bundlePage('./page.tsx'),
  '/profiling.js': await bundlePage('./page.tsx', { alias: { 'react-dom/client': 'react-dom/profiling' } }),
  '/persist.js': await bundlePage('../persist-page.ts'),
};
const { page, context, resolved, url, close } = await openPage(null, 'wayflow-peers-', {
  scripts,
  html: (request) => pageHtml(request.searchParams.has('profiling') ? '/profiling.js' : '/page.js', '/persist.js'),
});
const version = context.browser()?.version() ?? (await context.newPage().then((p) => p.evaluate(() => navigator.userAgent)));

const sorted = (values) => [...values].sort((a, b) => a - b);
const quantile = (values, q) => sorted(values)[Math.min(values.length - 1, Math.floor(values.length * q))];
const round3 = (v) => (v === undefined || v === null ? v : Number(v.toFixed(3)));
const ms = (v) => `${v.toFixed(2)} ms`;

try {
  // Warm-up: JIT, database creation.
  await warmedUp(page, url, names, 2, 3);
  await page.waitForFunction(() => 'wayflowBench' in globalThis);
  const caller = (p) => (name, ...args) => p.evaluate(([n, a]) => globalThis.peersBench[n](...a), [name, args]);
  const call = caller(page);
  console.log(`measured in ${describeChromium(resolved, `Chromium ${version}`)}, on-disk profile, cross-origin isolated`);

  const raced = await call('race', names, rounds, perRound);
  const stats = {};
  for (const name of names) {
    const samples = raced[name];
    const shown = samples.map((s) => s.shown);
    stats[name] = {
      label: labels[name],
      steps: samples.length,
      median: round3(quantile(shown, 0.5)),
      p95: round3(quantile(shown, 0.95)),
    };
  }
  // React commits per step, counted by a Profiler in a page running React's profiling build.
  const counting = await context.newPage();
  counting.on('pageerror', (error) => console.error('page error:', error.message));
  await counting.goto(`${url}?profiling`);
  await counting.waitForFunction(() => 'peersBench' in globalThis);
  const counted = await caller(counting)('race', names, 2, 3);
  await counting.close();
  for (const name of names) {
    const samples = counted[name];
    stats[name].commitsPerStep = { median: quantile(samples.map((s) => s.commits), 0.5), max: Math.max(...samples.map((s) => s.commits)) };
    stats[name].renderMsPerStep = round3(quantile(samples.map((s) => s.renderMs), 0.5));
    stats[name].toLastCommitMedian = round3(quantile(samples.map((s) => s.settled), 0.5));
  }
  const peers = names.filter((n) => n !== 'wayflow' && n !== 'before' && !variants.includes(n));
  const fastest = peers.reduce((a, b) => (stats[a].median <= stats[b].median ? a : b));
  const fastestP95 = peers.reduce((a, b) => (stats[a].p95 <= stats[b].p95 ? a : b));
  console.log(`\nclick on Continue → next heading shown (step committed first); ${rounds} rounds × ${perRound} checkouts × 5 steps per contender`);
  console.log('| contender | median step | p95 | commits/step (median, max) | render ms/step | ratio median | ratio p95 |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const name of names) {
    const s = stats[name];
    s.label ??= name;
    const ratio = (stats.wayflow.median / s.median).toFixed(2);
    const ratioP95 = (stats.wayflow.p95 / s.p95).toFixed(2);
    const own = name === 'wayflow';
    console.log(`| ${s.label} | ${ms(s.median)} | ${ms(s.p95)} | ${s.commitsPerStep.median}, ${s.commitsPerStep.max} | ${s.renderMsPerStep.toFixed(2)} | ${own ? '' : `${ratio}x`} | ${own ? '' : `${ratioP95}x`} |`);
  }
  // By step: the first step of a checkout (its task just opened) apart from the four others.
  const byStep = (name, first) => raced[name].filter((s) => (s.step === 0) === first).map((s) => s.shown);
  console.log(`by step, median / p95: ${names.map((n) => `${n} first ${ms(quantile(byStep(n, true), 0.5))} / ${ms(quantile(byStep(n, true), 0.95))}, later ${ms(quantile(byStep(n, false), 0.5))} / ${ms(quantile(byStep(n, false), 0.95))}`).join('; ')}`);
  const medianRatio = stats.wayflow.median / stats[fastest].median;
  const p95Ratio = stats.wayflow.p95 / stats[fastestP95].p95;
  if (baseline) {
    const before = stats.before;
    const fastestBefore = before.median / stats[fastest].median;
    console.log(`wayflow before (${baseline}) vs the fastest peer: median ${fastestBefore.toFixed(2)}x, p95 ${(before.p95 / stats[fastestP95].p95).toFixed(2)}x; wayflow now / before: median ${(stats.wayflow.median / before.median).toFixed(2)}x, p95 ${(stats.wayflow.p95 / before.p95).toFixed(2)}x`);
  }
  for (const variant of variants)
    console.log(`${variant} vs the fastest peer: median ${(stats[variant].median / stats[fastest].median).toFixed(2)}x, p95 ${(stats[variant].p95 / stats[fastestP95].p95).toFixed(2)}x; wayflow / ${variant}: median ${(stats.wayflow.median / stats[variant].median).toFixed(2)}x, p95 ${(stats.wayflow.p95 / stats[variant].p95).toFixed(2)}x`);
  console.log(`wayflow vs the fastest peer: median ${medianRatio.toFixed(2)}x (${fastest}; goal ≤ 1.10x) ${medianRatio <= 1.1 ? 'ok' : 'OVER'}, p95 ${p95Ratio.toFixed(2)}x (${fastestP95}; goal ≤ 1.20x) ${p95Ratio <= 1.2 ? 'ok' : 'OVER'}`);

  // Where a step's time goes, for wayflow and for the fastest peer: marks around the store write and the focus move
  // (checkouts interleaved), and wayflow's CPU phases alone.
  const profiledRuns = { wayflow: [], [fastest]: [] };
  for (let r = 0; r < 4; r++) for (const name of Object.keys(profiledRuns)) profiledRuns[name].push(...(await call('passes', name, Math.max(5, perRound), true)));
  const timelineOf = (profiled, name) => {
    const mid = (values) => round3(quantile(values.filter((v) => v !== undefined && v !== null), 0.5));
    return {
      clickHandled: mid(profiled.map((s) => s.clicked)),
      clickToWrite: mid(profiled.map((s) => s.putStart)),
      write: mid(profiled.map((s) => s.putEnd - s.putStart)),
      writeToHeading: mid(profiled.map((s) => s.shown - s.putEnd)),
      clickToHeading: mid(profiled.map((s) => s.shown)),
      headingToFocus: mid(profiled.map((s) => (s.focus === undefined ? undefined : s.focus - s.shown))),
      clickToLastCommit: stats[name].toLastCommitMedian,
      commitsPerStep: stats[name].commitsPerStep.median,
      renderMsPerStep: stats[name].renderMsPerStep,
      writesPerStep: quantile(profiled.map((s) => s.puts), 0.5),
    };
  };
  const timelines = Object.fromEntries(Object.entries(profiledRuns).map(([name, runs]) => [name, timelineOf(runs, name)]));
  const alone = await call('phases', 400);
  console.log(`\nwhere a step goes, median ms (${4 * Math.max(5, perRound) * 5} steps each, interleaved):`);
  const keys = Object.keys(timelines.wayflow);
  console.log(`| phase | ${Object.keys(timelines).join(' | ')} |`);
  console.log(`| --- | ${Object.keys(timelines).map(() => '---').join(' | ')} |`);
  for (const key of keys) console.log(`| ${key} | ${Object.values(timelines).map((t) => t[key] ?? '').join(' | ')} |`);
  console.log('wayflow CPU phases alone, median ms:', JSON.stringify(Object.fromEntries(Object.entries(alone).map(([k, v]) => [k, round3(v)]))));

  // The React-free cycle of bench/persist-page.ts, interleaved in rounds like bench/persist.mjs.
  const cycle = { strict: [], relaxed: [] };
  await page.evaluate(() => globalThis.wayflowBench.submitCycle(60, 'strict'));
  for (let r = 0; r < 3; r++) {
    for (const durability of ['strict', 'relaxed']) cycle[durability].push(await page.evaluate(([n, d]) => globalThis.wayflowBench.submitCycle(n, d), [cycleSamples, durability]));
  }
  const cycles = {};
  for (const durability of ['strict', 'relaxed']) {
    const runs = cycle[durability];
    const pick = (key) => quantile(runs.map((x) => x[key]), 0.5);
    cycles[durability] = { wayflow: round3(pick('wayflow')), baseline: round3(pick('baseline')), ratio: round3(pick('ratio')) };
    console.log(`React-free submit → transition → commit (${durability}): wayflow ${ms(cycles[durability].wayflow)}, XState + idb ${ms(cycles[durability].baseline)}, ratio ${cycles[durability].ratio.toFixed(2)}x (goal ≤ 1.20x)`);
  }

  const figure = (value, unit, baseline, goal) => ({ value: round3(value), unit, baseline: baseline === null ? null : round3(baseline), ratio: baseline ? round3(value / baseline) : null, goal });
  const results = {
    at: new Date().toISOString(),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, shared (busy)`,
    node: process.version,
    chromium: version,
    figures: {
      'peers.rsw': figure(stats.wayflow.median, 'ms', stats.rsw.median, 'wayflow median step ≤ 1.1x the fastest peer'),
      'peers.xstate': figure(stats.wayflow.median, 'ms', stats.xstate.median, 'wayflow median step ≤ 1.1x the fastest peer'),
      'peers.stepperize': figure(stats.wayflow.median, 'ms', stats.stepperize.median, 'wayflow median step ≤ 1.1x the fastest peer'),
      'peers.p95': figure(stats.wayflow.p95, 'ms', stats[fastestP95].p95, `p95 ≤ 1.2x the fastest peer (${fastestP95})`),
      'peers.renders': figure(stats.wayflow.commitsPerStep.median, 'React commits per step', null, '1 per step'),
      'persist.cycle.strict': figure(cycles.strict.wayflow, 'ms', cycles.strict.baseline, '≤ 1.2x the hand-written XState + idb wizard'),
      'persist.cycle.relaxed': figure(cycles.relaxed.wayflow, 'ms', cycles.relaxed.baseline, '≤ 1.2x the hand-written XState + idb wizard'),
    },
    method: { rounds, checkoutsPerRound: perRound, stepsPerContender: rounds * perRound * 5, warmUp: '2 rounds of 3 checkouts', durability: 'strict', profile: 'launchPersistentContext (on disk)', crossOriginIsolated: true },
    contenders: stats,
    profile: { timelines, phasesAlone: Object.fromEntries(Object.entries(alone).map(([k, v]) => [k, round3(v)])) },
  };
  await writeFile(output, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote ${output}`);
} finally {
  await close();
}
