// What garbage collection a step of the peers race costs (not part of the test run):  node bench/peers/gc.mjs
// Runs NAMES (default wayflow,[before,]xstate,rsw; BASELINE=<root> as in run.mjs) interleaved, ROUNDS (default 8) rounds
// of PASSES (default 6) checkouts each, with Chromium's GC trace events (devtools.timeline, v8.gc, blink_gc, cppgc:
// Oilpan, Blink's heap, is marked and swept within V8's mark-compact) recorded per batch. Prints per step and contender: each GC event (count per step, main-thread ms per step and per
// event; "other" is any other thread), the steps with a GC pause on the main thread between the click and the heading,
// that pause per step, and the median step with and without such a pause. Off by default, as they change when
// collections run: ALLOC=1 samples the allocations with V8's heap profiler (every 128 B, collected objects included)
// and prints the bytes allocated per step; TOP=<n> (with ALLOC) also the n functions allocating most (a build with
// function names kept); LEAK=1 collects all garbage after each batch and prints the JS heap left (a leak grows it);
// CPU=1 runs V8's sampling CPU profiler (40 µs) over the batches, as bench/peers/profile.mjs does.
import { baseline, bundlePage, openPage, traced, warmedUp } from './page-bundle.mjs';

const rounds = Number(process.env.ROUNDS ?? 8);
const perRound = Number(process.env.PASSES ?? 6);
const top = Number(process.env.TOP ?? 0);
const alloc = Boolean(process.env.ALLOC || top);
const leak = Boolean(process.env.LEAK);
const cpu = Boolean(process.env.CPU);
const names = (process.env.NAMES ?? `wayflow,${baseline ? 'before,' : ''}xstate,rsw`).split(',');
const script = await bundlePage('./page.tsx', { profile: top > 0 });
const { page, context, url, close } = await openPage(script, 'wayflow-gc-');
const categories = ['blink.user_timing', 'devtools.timeline', 'v8', 'v8.gc', 'disabled-by-default-v8.gc', 'blink_gc', 'disabled-by-default-blink_gc', 'cppgc', 'disabled-by-default-cppgc'];

try {
  await warmedUp(page, url, names, 2, 3);
  const cdp = await context.newCDPSession(page);
  await cdp.send('HeapProfiler.enable');
  if (cpu) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 40 });
  }
  let lastUsed;
  if (leak) {
    await cdp.send('HeapProfiler.collectGarbage');
    lastUsed = (await cdp.send('Runtime.getHeapUsage')).usedSize;
  }
  const sums = Object.fromEntries(names.map((n) => [n, { steps: 0, checkouts: 0, kinds: {}, allocated: 0, functions: new Map(), retained: [] }]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length];
      const s = sums[name];
      if (cpu) await cdp.send('Profiler.start');
      if (alloc) await cdp.send('HeapProfiler.startSampling', { samplingInterval: 128, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
      const { events, result: [synced, samples] } = await traced(cdp, categories, () =>
        page.evaluate(async ([n, c]) => {
          performance.mark('gc-sync');
          return [performance.now(), await globalThis.peersBench.passes(n, c)];
        }, [name, perRound]),
      );
      if (cpu) await cdp.send('Profiler.stop');
      if (leak) {
        await cdp.send('HeapProfiler.collectGarbage');
        const used = (await cdp.send('Runtime.getHeapUsage')).usedSize;
        if (lastUsed !== undefined) s.grown = (s.grown ?? 0) + used - lastUsed;
        s.retained.push(used);
        lastUsed = used;
      }
      s.steps += samples.length;
      s.checkouts += perRound;
      const walk = (node) => {
        const f = `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.split('/').pop()}:${node.callFrame.lineNumber}`;
        s.allocated += node.selfSize;
        s.functions.set(f, (s.functions.get(f) ?? 0) + node.selfSize);
        for (const c of node.children) walk(c);
      };
      if (alloc) walk((await cdp.send('HeapProfiler.stopSampling')).profile.head);
      const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
      const sync = events.find((e) => e.name === 'gc-sync');
      // Main-thread GC pauses (V8's scavenges and mark-compact finalization, Oilpan's atomic pause) inside each step's window.
      const pauses = events.filter((e) => main && e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && ['V8.GCScavenger', 'V8.GCFinalizeMC', 'V8.GCIncrementalMarking', 'BlinkGC.AtomicPauseMarkTransitiveClosure', 'BlinkGC.AtomicPauseSweepAndCompact', 'CppGC.AtomicMark', 'CppGC.AtomicSweep'].includes(e.name));
      for (const step of samples) {
        const from = sync.ts + (step.at - synced) * 1000;
        const to = from + step.shown * 1000;
        const inside = pauses.filter((e) => e.ts < to && e.ts + e.dur > from);
        // Nested pauses (Oilpan's atomic pause inside V8's mark-compact) count once: the union of the intervals.
        let ms = 0;
        let reached = from;
        for (const e of inside.sort((a, b) => a.ts - b.ts)) {
          const end = Math.min(to, e.ts + e.dur);
          if (end > reached) ms += (end - Math.max(reached, e.ts)) / 1000;
          reached = Math.max(reached, end);
        }
        s.inWindow = (s.inWindow ?? 0) + ms;
        if (ms > 0) s.stepsWithGc = (s.stepsWithGc ?? 0) + 1;
        s.shown ??= [];
        s.shownWithoutGc ??= [];
        s.shown.push(step.shown);
        if (ms === 0) s.shownWithoutGc.push(step.shown);
      }
      for (const e of events) {
        if (e.ph !== 'X' && e.ph !== 'B') continue;
        const where = main && e.pid === main.pid && e.tid === main.tid ? 'main' : 'other';
        const key = `${where} ${e.name}`;
        s.kinds[key] ??= { count: 0, ms: 0 };
        const kind = s.kinds[key];
        kind.count++;
        kind.ms += (e.dur ?? 0) / 1000;
      }
    }
  }
  console.log(`per step (${rounds} rounds x ${perRound} checkouts of 5 steps each, interleaved): GC trace events (count, ms)`);
  const keys = [...new Set(names.flatMap((n) => Object.keys(sums[n].kinds)))].filter((k) => /gc|GC|Scaveng|Sweep|Mark|Compact|Oilpan|Blink/i.test(k)).sort();
  console.log(`| event | ${names.join(' | ')} |`);
  console.log(`| --- | ${names.map(() => '---:').join(' | ')} |`);
  for (const key of keys) {
    console.log(`| ${key} | ${names.map((n) => { const k = sums[n].kinds[key]; return k ? `${(k.count / sums[n].steps).toFixed(3)} / ${(k.ms / sums[n].steps).toFixed(3)} ms (${(k.ms / k.count).toFixed(2)} each)` : '-'; }).join(' | ')} |`);
  }
  console.log(`| steps with a GC pause in the window | ${names.map((n) => `${(((sums[n].stepsWithGc ?? 0) / sums[n].steps) * 100).toFixed(1)}%`).join(' | ')} |`);
  console.log(`| GC pause in the window, ms per step | ${names.map((n) => ((sums[n].inWindow ?? 0) / sums[n].steps).toFixed(3)).join(' | ')} |`);
  const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
  console.log(`| median step: all, without a GC pause (ms) | ${names.map((n) => `${median(sums[n].shown).toFixed(2)}, ${median(sums[n].shownWithoutGc).toFixed(2)}`).join(' | ')} |`);
  if (alloc) console.log(`| allocated per step (sampled) | ${names.map((n) => `${(sums[n].allocated / sums[n].steps / 1024).toFixed(1)} KB`).join(' | ')} |`);
  if (leak) console.log(`| JS heap after a full GC, per round | ${names.map((n) => sums[n].retained.map((b) => (b / 1e6).toFixed(2)).join(' ')).join(' | ')} |`);
  if (leak) console.log(`| JS heap grown over its batches (after a full GC), per checkout | ${names.map((n) => `${((sums[n].grown ?? 0) / sums[n].checkouts / 1024).toFixed(2)} KB`).join(' | ')} |`);
  if (top) {
    for (const n of names) {
      console.log(`\n${n}: top ${top} allocating functions, KB per step`);
      for (const [f, b] of [...sums[n].functions].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${(b / sums[n].steps / 1024).toFixed(2)}  ${f}`);
    }
  }
} finally {
  await close();
}
