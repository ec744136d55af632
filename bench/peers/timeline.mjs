// The phase timeline of one step (not part of the test run):  node bench/peers/timeline.mjs
// Runs bench/peers/timeline-page.tsx (the race page with React's profiling build and every phase noted:
// click, submit, validation, the IndexedDB transaction opened, its requests, its commit requested, its
// `complete` event and the end of that task, React's render and commit, the heading in the DOM, focus moves
// and frames) for NAMES (default wayflow,xstate; with BASELINE=<root>, `before` too) interleaved, ROUNDS
// (default 8) rounds of PASSES (default 6) checkouts each. Prints, per phase, when it happened after the
// click (median and p95 over the steps, ms) and how often it happened within the step (click to heading).
// MUTS=1 also prints what the page changed around each step, per step (mean): DOM mutations by kind (the
// element and attribute) and frames asked for by the page, in the 20 ms before the click, from the click to the
// write's `complete` event, and after it; SLOW=<ms> then prints those of the 20 ms before the click too (PRE).
import { baseline, bundlePage, openPage } from './page-bundle.mjs';

const rounds = Number(process.env.ROUNDS ?? 8);
const perRound = Number(process.env.PASSES ?? 6);
const names = (process.env.NAMES ?? `wayflow,${baseline ? 'before,' : ''}xstate`).split(',');
const script = await bundlePage('./timeline-page.tsx', { alias: { 'react-dom/client': 'react-dom/profiling' } });
const { page, url, close } = await openPage(script, 'wayflow-timeline-');
const quantile = (values, q) => {
  const s = values.filter((v) => v !== undefined).sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * q))] : undefined;
};
const phases = ['click', 'submit', 'validate.start', 'validate.end', 'tx.open', 'get.issued', 'put.issued', 'commit.requested', 'request.result-read', 'complete.fired', 'render.start', 'commit', 'shown', 'complete.task-after', 'focus', 'frame'];

try {
  page.on('pageerror', (error) => console.error('page error:', error.stack));
  await page.goto(url);
  await page.waitForFunction(() => 'peersBench' in globalThis && globalThis.crossOriginIsolated);
  if (process.env.MUTS) await page.evaluate(() => globalThis.peersBench.observeMutations());
  await page.evaluate((n) => globalThis.peersBench.race(n, 2, 3), names);
  await page.evaluate(() => globalThis.peersBench.drain());
  const steps = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length];
      const [samples, notes] = await page.evaluate(async (n) => [await globalThis.peersBench.passes(n, 1 * Number(n.length > 0)), globalThis.peersBench.drain()], name);
      for (let p = 1; p < perRound; p++) {
        const [more, moreNotes] = await page.evaluate(async (n) => [await globalThis.peersBench.passes(n, 1), globalThis.peersBench.drain()], name);
        samples.push(...more);
        notes.push(...moreNotes);
      }
      notes.sort((a, b) => a[1] - b[1]);
      for (const s of samples) {
        const end = s.at + s.shown;
        const within = notes.filter(([, t]) => t >= s.at - 0.05 && t <= end + 6);
        const first = {};
        const counts = {};
        for (const [what, t] of within) {
          const key = what.startsWith('longtask') ? 'longtask' : what;
          if (t <= end) counts[key] = (counts[key] ?? 0) + 1;
          if (key === 'frame' || key === 'focus') {
            if (t <= end) first[`${key} (in step)`] ??= t - s.at;
            else first[`${key} (after heading)`] ??= t - s.at;
          } else first[key] ??= t - s.at;
        }
        // The render and commit that show the step: the first ones after the write's complete event.
        const done = first['complete.fired'];
        for (const key of ['render.start', 'commit']) {
          const after = within.find(([w, t]) => w === key && t - s.at >= done);
          first[key] = after ? after[1] - s.at : undefined;
        }
        first.shown = s.shown;
        const pre = notes.filter(([w, t]) => t >= s.at - 20 && t < s.at - 0.05 && (w.startsWith('mut:') || w === 'raf.request' || w === 'frame' || w === 'focus' || w === 'shown'));
        steps[name].push({ pre: pre.map(([w, t]) => `${w}@${(t - s.at).toFixed(2)}`).join(' '), first, counts, seq: within.map(([w, t]) => `${w}@${(t - s.at).toFixed(2)}`).join(' '), step: s.step });
      }
    }
  }
  const all = steps;
  // Every step, then the first step of a checkout alone (the task just opened), then the others.
  for (const which of (process.env.STEPS ?? 'all,first,later').split(',')) {
    const steps = Object.fromEntries(names.map((n) => [n, all[n].filter((s) => which === 'all' || (which === 'first') === (s.step === 0))]));
    console.log(`\n## ${which} steps`);
    const keys = ['other.complete', ...phases.filter((p) => p !== 'focus' && p !== 'frame'), 'focus (in step)', 'focus (after heading)', 'frame (in step)', 'frame.cb', 'longtask'];
    console.log(`ms after the click, median / p95 (how many steps had it), ${steps[names[0]].length} steps each, interleaved`);
    console.log(`| phase | ${names.join(' | ')} |`);
    console.log(`| --- | ${names.map(() => '---').join(' | ')} |`);
    for (const key of keys) {
      const cells = names.map((n) => {
        const values = steps[n].map((s) => s.first[key]);
        const seen = values.filter((v) => v !== undefined).length;
        if (!seen) return '';
        return `${quantile(values, 0.5).toFixed(2)} / ${quantile(values, 0.95).toFixed(2)} (${seen})`;
      });
      console.log(`| ${key} | ${cells.join(' | ')} |`);
    }
    if (process.env.MUTS) {
      // What the page changes in the step window, by phase: DOM mutations and frame requests per step (mean).
      for (const n of names) {
        const tally = {};
        for (const s of steps[n]) {
          const done = s.first['complete.fired'] ?? Infinity;
          for (const item of `${s.pre} ${s.seq}`.trim().split(' ')) {
            const [what, t] = item.split('@');
            if (!what.startsWith('mut:') && what !== 'raf.request' && what !== 'frame') continue;
            const key = `${Number(t) < 0 ? '0 last 20 ms before click' : Number(t) < done ? '1 before complete' : '2 after complete'} ${what}`;
            tally[key] = (tally[key] ?? 0) + 1 / steps[n].length;
          }
        }
        console.log(`\n${n}: per step (mean), click to heading + 6 ms`);
        for (const [k, v] of Object.entries(tally).sort()) console.log(`  ${k}: ${v.toFixed(2)}`);
      }
    }
    if (process.env.SLOW && which === (process.env.SLOW_STEPS ?? 'all')) for (const n of names) for (const s of steps[n]) if (s.first.shown > Number(process.env.SLOW)) console.log(n, s.step, `PRE ${s.pre} | ${s.seq}`);
    // Gaps between consecutive phases (medians of per-step differences).
    const gaps = [['click', 'tx.open'], ['validate.end', 'tx.open'], ['tx.open', 'put.issued'], ['put.issued', 'complete.fired'], ['complete.fired', 'render.start'], ['render.start', 'commit'], ['commit', 'shown'], ['complete.fired', 'shown'], ['shown', 'complete.task-after']];
    console.log(`\n| gap (median / p95 of per-step differences) | ${names.join(' | ')} |`);
    console.log(`| --- | ${names.map(() => '---').join(' | ')} |`);
    for (const [a, b] of gaps) {
      const cells = names.map((n) => {
        const d = steps[n].map((s) => (s.first[a] !== undefined && s.first[b] !== undefined ? s.first[b] - s.first[a] : undefined));
        const q = quantile(d, 0.5);
        return q === undefined ? '' : `${q.toFixed(2)} / ${quantile(d, 0.95).toFixed(2)}`;
      });
      console.log(`| ${a} → ${b} | ${cells.join(' | ')} |`);
    }
  }
} finally {
  await close();
}
