// Where the CPU of a step of the peers race goes (not part of the test run):
//   node bench/peers/profile.mjs        (BASELINE=<root> adds wayflow as that checkout builds it, as run.mjs does)
// Bundles bench/peers/page.tsx unminified (function names kept), runs ROUNDS (default 12) rounds of 5
// checkouts per contender (NAMES, default wayflow, [before,] stepperize; the order rotated each round) under
// V8's sampling profiler (40 µs), and keeps the samples taken between each step's click and its heading.
// Prints, per step and contender, the mean time in: the click's submit handler (React's dispatch of it, with
// wayflow's validation, transition and the start of its write), the store's write as called in it, the
// IndexedDB read result (wayflow's compare-and-set check), the next step's React render and commit (in the
// transaction's complete event for wayflow, in a scheduler task for a peer) and the removal of the last step's
// DOM in it, focus calls, the browser's own work (style, layout, paint, IndexedDB glue: V8's "program"),
// garbage collection and idle time (waiting for IndexedDB). Samples are not timings: use it to compare
// contenders in one run, and bench/peers/run.mjs for the race's step times. STEPS=first keeps only each checkout's
// first step (its task just opened), STEPS=later the four others; TOP=n also prints each contender's n functions with
// the most self time per step (UNDER=<function>: the time of every function in the samples under that one); SAVE=<file>
// writes the profile and the steps' windows as JSON.
import { writeFile } from 'node:fs/promises';
import { baseline, bundlePage, openPage, warmedUp } from './page-bundle.mjs';

const rounds = Number(process.env.ROUNDS ?? 12);
/** STEPS=first keeps only each checkout's first step (its task just opened), STEPS=later the four others. */
const only = process.env.STEPS ?? 'all';
/** UNDER=<function name>: TOP lists the time per step of every function in the samples under that frame (their callees included) instead of self time. */
const under = process.env.UNDER;
const names = (process.env.NAMES ?? `wayflow,${baseline ? 'before,' : ''}stepperize`).split(',');
const script = await bundlePage('./page.tsx', { profile: true });
const { page, context, url, close } = await openPage(script, 'wayflow-profile-');

/** What a row adds up: the samples whose stack holds a frame `named` (the outermost one counts once), or whose own frame is `leaf`. */
const rows = [
  ['submit handler (click dispatch)', { named: 'dispatchDiscreteEvent' }],
  ['  of which the transition (wayflow)', { named: '#apply' }],
  ["  of which the store's write, as called", { named: 'put', or: 'save' }],
  ['IndexedDB read result, compare-and-set check (wayflow now)', { named: 'reading.onsuccess' }],
  ['next render and commit', { named: 'processRootScheduleInMicrotask', or: 'performWorkUntilDeadline' }],
  ["  of which removing the last step's DOM", { named: 'commitDeletionEffectsOnFiber' }],
  ['focus()', { leaf: 'focus' }],
  ['browser work (style, layout, paint, IndexedDB glue)', { leaf: '(program)' }],
  ['garbage collection', { leaf: '(garbage collector)' }],
  ['idle (waiting for IndexedDB)', { leaf: '(idle)' }],
];

try {
  await warmedUp(page, url, names, 3, 3);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 40 });
  await cdp.send('Profiler.start');
  const marked = await page.evaluate(() => globalThis.peersBench.clockMark(30));
  const steps = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length];
      steps[name].push(...(await page.evaluate((n) => globalThis.peersBench.passes(n, 5), name)));
    }
  }
  const { profile } = await cdp.send('Profiler.stop');
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map();
  for (const n of profile.nodes) for (const child of n.children ?? []) parents.set(child, n.id);
  const stackOf = (id) => {
    const frames = [];
    for (let at = id; at !== undefined; at = parents.get(at)) frames.push(nodes.get(at).callFrame.functionName);
    return frames;
  };
  const times = [];
  let t = profile.startTime;
  for (const d of profile.timeDeltas) {
    t += d;
    times.push(t / 1000);
  }
  const first = profile.samples.findIndex((id) => stackOf(id).includes('clockMark'));
  const offset = times[first] - marked;
  // SAVE=<file>: the profile and the steps (their windows on the profile's clock: at + offset, at + shown + offset), for a closer look.
  if (process.env.SAVE) await writeFile(process.env.SAVE, JSON.stringify({ profile, steps, offset }));
  const table = {};
  const selfTimes = Object.fromEntries(names.map((n) => [n, new Map()]));
  for (const name of names) {
    const kept = steps[name].filter((s) => (only === 'first' ? s.step === 0 : only === 'later' ? s.step !== 0 : true));
    const windows = kept.map((s) => [s.at + offset, s.at + s.shown + offset]).sort((a, b) => a[0] - b[0]);
    const sums = Object.fromEntries(rows.map(([label]) => [label, 0]));
    let sampled = 0;
    let w = 0;
    for (let i = 0; i < profile.samples.length; i++) {
      while (w < windows.length && windows[w][1] < times[i]) w++;
      if (w === windows.length || times[i] < windows[w][0]) continue;
      const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
      sampled += dt;
      const stack = stackOf(profile.samples[i]);
      if (!under) selfTimes[name].set(stack[0], (selfTimes[name].get(stack[0]) ?? 0) + dt);
      else if (stack.includes(under)) for (const frame of new Set(stack)) selfTimes[name].set(frame, (selfTimes[name].get(frame) ?? 0) + dt);
      for (const [label, { named, or, leaf }] of rows) {
        if (leaf ? stack[0] === leaf : stack.includes(named) || (or !== undefined && stack.includes(or))) sums[label] += dt;
      }
    }
    const n = kept.length;
    const median = kept.map((s) => s.shown).sort((a, b) => a - b)[n >> 1];
    table[name] = { 'step, median': median, ...Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / n])), 'all sampled': sampled / n };
  }
  console.log(`ms per step, click to heading (${rounds * 5 * 5} steps each, interleaved, sampled every 40 µs): the median step, then means`);
  console.log(`| | ${names.join(' | ')} |`);
  console.log(`| --- | ${names.map(() => '---:').join(' | ')} |`);
  for (const key of Object.keys(table[names[0]])) console.log(`| ${key} | ${names.map((n) => table[n][key].toFixed(2)).join(' | ')} |`);
  const count = (name) => steps[name].filter((s) => (only === 'first' ? s.step === 0 : only === 'later' ? s.step !== 0 : true)).length;
  for (const name of names) {
    const top = [...selfTimes[name]].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 0));
    if (top.length) console.log(`${name}, ${under ? `time under ${under}` : 'self time'} per step (ms): ${top.map(([f, v]) => `${f || '(anonymous)'} ${(v / count(name)).toFixed(3)}`).join(', ')}`);
  }
} finally {
  await close();
}
