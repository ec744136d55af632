// What the browser's frames cost in a step of the peers race (not part of the test run):  node bench/peers/frames.mjs
// Runs NAMES (default wayflow,wf-noprog,wf-nolive,wf-bare,xstate; wayflow's variants, wf-*, are in
// bench/peers/frame-variants.tsx; BASELINE=<root> adds `before` as in run.mjs) interleaved, ROUNDS (default 8) rounds of
// PASSES (default 6) checkouts each, with Chromium's trace events (devtools.timeline, toplevel, cc, accessibility)
// recorded per batch and cut to each step's window (click to heading). Prints per contender the median step (with and
// without a frame in it), a frame's work per step (the style and layout the click forces, then cc's BeginMainFrame),
// and per step the main thread's events of a frame (style, layout, pre-paint, paint, layerize, commit...), the rest of
// its busy time and the tasks of the renderer's other threads (compositor, raster workers): count per step, ms per
// step (ms each, wall, and CPU: the thread's own time in it, which the wall time exceeds by its waits for other
// threads and for a core). STEPS=later leaves out a checkout's first step, STEPS=first keeps only it; TOP=<n> the n other events listed;
// ARGS=<event> prints what the main thread's <event> (e.g. "Layout (forced)") was called from (a build with names).
import { baseline, bundlePage, openPage, traced, warmedUp } from './page-bundle.mjs';

const rounds = Number(process.env.ROUNDS ?? 8);
const perRound = Number(process.env.PASSES ?? 6);
const names = (process.env.NAMES ?? `wayflow,${baseline ? 'before,' : ''}wf-noprog,wf-nolive,wf-bare,xstate`).split(',');
const later = process.env.STEPS === 'later';
const firstOnly = process.env.STEPS === 'first';
const script = await bundlePage('./page.tsx', { profile: Boolean(process.env.ARGS) });
const { page, context, url, close } = await openPage(script, 'wayflow-frames-');
const categories = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'toplevel', 'blink.user_timing', 'accessibility', 'disabled-by-default-devtools.timeline.frame', 'cc', ...(process.env.ARGS ? ['disabled-by-default-devtools.timeline.stack'] : [])];
// The events of a frame on the main thread, in the order a frame runs them, and what else a step runs there.
const shownKeys = ['ProxyMain::BeginMainFrame', 'UpdateLayoutTree (forced)', 'Layout (forced)', 'BeginMainThreadFrame', 'FireAnimationFrame', 'UpdateLayoutTree', 'Layout', 'PrePaint', 'Paint', 'Layerize', 'UpdateLayer', 'Commit', 'HitTest', 'ScheduleStyleRecalculation', 'InvalidateLayout', 'RunTask', 'ThreadControllerImpl::RunTask', 'FunctionCall', 'EventDispatch', 'v8.callFunction'];

try {
  await warmedUp(page, url, names, 2, 3);
  const cdp = await context.newCDPSession(page);
  const sums = Object.fromEntries(names.map((n) => [n, { steps: 0, shown: [], kinds: {}, frameSteps: 0, frameShown: [], noFrameShown: [] }]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length];
      const s = sums[name];
      const { events, result: [synced, samples] } = await traced(cdp, categories, () =>
        page.evaluate(async ([n, c]) => {
          performance.mark('frames-sync');
          return [performance.now(), await globalThis.peersBench.passes(n, c)];
        }, [name, perRound]),
      );
      const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
      const sync = events.find((e) => e.name === 'frames-sync');
      // The renderer's other threads (compositor, raster workers...): their tasks' wall and CPU time in each step window.
      const threadNames = new Map(events.filter((e) => e.name === 'thread_name' && main && e.pid === main.pid).map((e) => [e.tid, e.args.name.replace(/\d+$/, '')]));
      const offMain = events.filter((e) => main && e.pid === main.pid && e.tid !== main.tid && e.ph === 'X' && (e.name === 'ThreadControllerImpl::RunTask' || e.name === 'TaskGraphRunner::RunTask'));
      const onMain = events.filter((e) => main && e.pid === main.pid && e.tid === main.tid && e.ph === 'X');
      for (const step of samples) {
        if ((later && step.step === 0) || (firstOnly && step.step !== 0)) continue;
        const from = sync.ts + (step.at - synced) * 1000;
        const to = from + step.shown * 1000;
        s.steps++;
        s.shown.push(step.shown);
        let framed = false;
        const inWindow = onMain.filter((e) => e.ts >= from && e.ts <= to);
        // A frame: cc's ProxyMain::BeginMainFrame on the main thread; style and layout outside one were asked for by script (forced).
        const frames = inWindow.filter((e) => e.name === 'ProxyMain::BeginMainFrame');
        for (const e of offMain) {
          if (e.ts < from || e.ts > to) continue;
          const key = `[${threadNames.get(e.tid) ?? e.tid}] ${e.name}`;
          s.kinds[key] ??= { count: 0, ms: 0, cpu: 0 };
          s.kinds[key].count++;
          s.kinds[key].ms += (e.dur ?? 0) / 1000;
          s.kinds[key].cpu += (e.tdur ?? 0) / 1000;
        }
        for (const e of inWindow) {
          if (e.name === 'ProxyMain::BeginMainFrame') framed = true;
          const inFrame = frames.some((f) => e.ts >= f.ts && e.ts <= f.ts + f.dur);
          const key = (e.name === 'UpdateLayoutTree' || e.name === 'Layout') && !inFrame ? `${e.name} (forced)` : e.name;
          if (process.env.ARGS && key === process.env.ARGS) {
            const stack = e.args?.beginData?.stackTrace;
            const sig = stack ? stack.slice(0, 4).map((f) => `${f.functionName}@${f.lineNumber}`).join(' < ') : JSON.stringify(e.args).slice(0, 200);
            s.args ??= {};
            s.args[sig] = (s.args[sig] ?? 0) + 1;
          }
          s.kinds[key] ??= { count: 0, ms: 0, cpu: 0 };
          s.kinds[key].count++;
          s.kinds[key].ms += (e.dur ?? 0) / 1000;
          // The main thread's CPU time in it (the trace's thread duration): what the wall time is less the waits for other threads and the cores.
          s.kinds[key].cpu += (e.tdur ?? 0) / 1000;
        }
        if (framed) s.frameSteps++;
        (framed ? s.frameShown : s.noFrameShown).push(step.shown);
      }
    }
  }
  const median = (values) => (values.length ? [...values].sort((a, b) => a - b)[values.length >> 1] : NaN);
  console.log(`per step (${rounds} rounds x ${perRound} checkouts, ${later ? 'later steps' : firstOnly ? 'first steps' : 'all steps'}, interleaved): main-thread trace events in the step window, count / ms per step (ms each)`);
  console.log(`| event | ${names.join(' | ')} |`);
  console.log(`| --- | ${names.map(() => '---:').join(' | ')} |`);
  console.log(`| median step (ms) | ${names.map((n) => median(sums[n].shown).toFixed(2)).join(' | ')} |`);
  console.log(`| steps with a frame's work in the window | ${names.map((n) => `${((sums[n].frameSteps / sums[n].steps) * 100).toFixed(0)}%`).join(' | ')} |`);
  console.log(`| median step: with / without a frame | ${names.map((n) => `${median(sums[n].frameShown).toFixed(2)} / ${median(sums[n].noFrameShown).toFixed(2)}`).join(' | ')} |`);
  // A frame's work per step: the style and layout the click forces (the previous step's new content, styled and laid out there), then the frame.
  const frameWork = ['UpdateLayoutTree (forced)', 'Layout (forced)', 'ProxyMain::BeginMainFrame'];
  const per = (n, field) => frameWork.reduce((sum, k) => sum + (sums[n].kinds[k]?.[field] ?? 0), 0) / sums[n].steps;
  console.log(`| frame work per step: forced style + layout + frames, wall / CPU ms | ${names.map((n) => `${per(n, 'ms').toFixed(3)} / ${per(n, 'cpu').toFixed(3)}`).join(' | ')} |`);
  const all = [...new Set(names.flatMap((n) => Object.keys(sums[n].kinds)))];
  const extra = all.filter((k) => !shownKeys.includes(k) && !k.startsWith('[')).sort((a, b) => sums[names[0]].kinds[b]?.ms - sums[names[0]].kinds[a]?.ms || 0).slice(0, Number(process.env.TOP ?? 12));
  for (const key of [...shownKeys.filter((k) => all.includes(k)), ...all.filter((k) => k.startsWith('[')).sort(), ...extra]) {
    console.log(`| ${key} | ${names.map((n) => { const k = sums[n].kinds[key]; return k ? `${(k.count / sums[n].steps).toFixed(2)} / ${(k.ms / sums[n].steps).toFixed(3)} (${(k.ms / k.count).toFixed(3)}; CPU ${(k.cpu / k.count).toFixed(3)})` : '-'; }).join(' | ')} |`);
  }
  if (process.env.ARGS) for (const n of names) for (const [sig, c] of Object.entries(sums[n].args ?? {}).sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(n, (c / sums[n].steps).toFixed(2), sig);
} finally {
  await close();
}
