// What each benchmark area runs and which published figures and plots it yields
// (bench/run.mjs runs them; the figure ids are the ones bench/results.json promises).
import { histogram, lineChart } from './svg.mjs';

const round = (v, digits = 2) => (v === null || v === undefined || Number.isNaN(v) ? null : Number(v.toFixed(digits)));
const ratio = (value, baseline) => (value && baseline ? round(value / baseline) : null);

/**
 * A figure: `value` in `unit`, its baseline of the same run and the ratio to it, the goal in
 * words and whether the value meets it (`met`: true, false, or null when there is no goal).
 */
export function figure(value, unit, { baseline = null, ratio: r = ratio(value, baseline), goal = '', met = null, ...extra } = {}) {
  return { value: round(value, 3), unit, baseline: round(baseline, 3), ratio: r, goal, met, ...extra };
}

/** A tasks API scenario against its baseline: the median of per-round ratios bench/server.mjs gives, else (older JSON) the ratio of the medians. */
const tasksRatio = (j, api, baseline) => round(j[`${api}Ratio`] ?? (j[api] && j[baseline] ? j[api].pairsPerSecond / j[baseline].pairsPerSecond : null));

/** The areas in the order `npm run bench` runs them. */
export const AREAS = {
  persist: {
    script: 'bench/persist.mjs',
    what: 'Chromium (profile on disk): submit → transition → IndexedDB commit, and restore, against a hand-written XState + idb wizard',
    figures: (j) => ({
      'persist.cycle.strict': figure(j.submitStrict?.wayflow, 'ms', {
        baseline: j.submitStrict?.baseline,
        ratio: round(j.submitStrict?.ratio),
        goal: '≤ 1.2x the hand-written XState + idb wizard',
        met: j.submitStrict ? j.submitStrict.ratio <= 1.2 : null,
      }),
      'persist.cycle.relaxed': figure(j.submitRelaxed?.wayflow, 'ms', {
        baseline: j.submitRelaxed?.baseline,
        ratio: round(j.submitRelaxed?.ratio),
        goal: '≤ 1.2x the hand-written XState + idb wizard',
        met: j.submitRelaxed ? j.submitRelaxed.ratio <= 1.2 : null,
      }),
      'persist.restore100k': figure(j.restore?.restore, 'ms', {
        baseline: j.restore?.baseline,
        ratio: round(j.restore?.ratio),
        goal: '≤ 1.0x the hand-written XState + idb restore',
        met: j.restore?.ratio === undefined ? null : j.restore.ratio <= 1.0,
        note: j.restore ? `task with ${Math.round(j.restore.dataBytes / 1024)} KB of data` : undefined,
      }),
    }),
    plots: (j) => ({
      ...(j.cycleBySize && {
        'cycle-vs-flow-size': lineChart({
          title: 'Submit → transition → IndexedDB commit by flow size',
          xLabel: 'actions in the flow',
          yLabel: 'ms per step',
          logX: true,
          series: [
            { name: 'median', points: j.cycleBySize.map((r) => [r.size, r.median]) },
            { name: 'p95', points: j.cycleBySize.map((r) => [r.size, r.p95]), dashed: true },
          ],
        }),
      }),
      ...(j.restoreBySize && {
        'restore-vs-task-size': lineChart({
          title: 'Restore from IndexedDB by task size',
          xLabel: 'bytes of task data',
          yLabel: 'ms (median)',
          logX: true,
          series: [{ name: 'load + migrate + restore', points: j.restoreBySize.map((r) => [r.bytes, r.median]) }],
        }),
      }),
    }),
    chromium: (j) => j.chromium?.version ?? null,
  },
  peers: {
    script: 'bench/peers/run.mjs',
    what: 'Chromium (profile on disk): the same 5-step persisted checkout in React 19, wayflow against XState + @xstate/react, react-use-wizard and @stepperize/react (each with idb by hand); click → next heading, the step committed first',
    figures: (j) => {
      const c = j.contenders;
      if (!c) return {};
      const peers = ['xstate', 'rsw', 'stepperize'];
      const fastest = Math.min(...peers.map((p) => c[p].median));
      const fastestP95 = Math.min(...peers.map((p) => c[p].p95));
      const met = c.wayflow.median <= 1.1 * fastest && c.wayflow.p95 <= 1.2 * fastestP95;
      const against = (peer, label) =>
        figure(c.wayflow.median, 'ms', {
          baseline: c[peer].median,
          goal: 'median ≤ 1.1x and p95 ≤ 1.2x the fastest peer',
          met,
          p95: c.wayflow.p95,
          note: `${label}: p95 ${c[peer].p95} ms; React commits a step: wayflow ${c.wayflow.commitsPerStep.median}, ${label} ${c[peer].commitsPerStep.median}`,
        });
      return { 'peers.xstate': against('xstate', 'XState + idb'), 'peers.rsw': against('rsw', 'react-use-wizard + idb'), 'peers.stepperize': against('stepperize', 'Stepperize + idb') };
    },
    chromium: (j) => j.chromium ?? null,
  },
  compile: {
    script: 'bench/compile.mjs',
    nodeArgs: ['--expose-gc'],
    what: 'Node: compile of a 1,000-action, 10-deep flow; heap per live task of it',
    figures: (j) => ({
      'compile.1000': figure(j.compile?.production?.median, 'ms', {
        goal: '< 50 ms',
        met: j.compile ? j.compile.production.median < 50 : null,
        note: j.compile ? `production build; ${round(j.compile.development.median, 1)} ms with the development checks` : undefined,
      }),
      'memory.task1000': figure(j.memory ? j.memory.bytesPerTask / 1024 : null, 'KB', { goal: 'reported', note: j.memory?.note }),
    }),
  },
  map: {
    script: 'bench/map.mjs',
    what: 'Node + jsdom, React production build: ProcessMap re-rendering a 200-node automation with new counts, against the same nodes hand-drawn',
    figures: (j) => ({
      'map.rerender200': figure(j.map?.median, 'ms', {
        baseline: j.baseline?.median,
        goal: '< 16 ms (one frame)',
        met: j.map ? j.map.median < 16 : null,
        note: j.map ? `p95 ${round(j.map.p95, 1)} ms; ${j.nodes} nodes, ${j.edges} edges; the baseline draws no table and no accessible names` : undefined,
      }),
    }),
  },
  funnel: {
    script: 'bench/funnel.mjs',
    what: 'the funnel of a browser flow over 100,000 tasks (kept outcomes + 1,000 live), computed by the storage in SQL, against a plain SQL group-by of the same rows (tasks per last step)',
    figures: (j) => {
      const on = (m, limit, where) =>
        figure(m?.funnelMs, 'ms', {
          baseline: m?.baselineMs,
          goal: `< ${limit / 1000} s on ${where}`,
          met: m ? m.funnelMs < limit : null,
          note: m ? `${m.started} tasks, ${m.steps} steps; the baseline counts tasks per last step` : undefined,
        });
      return { 'funnel.100k.pg': on(j.pg, 1000, 'PostgreSQL'), 'funnel.100k.pglite': on(j.pglite, 3000, 'PGlite') };
    },
  },
  bundle: {
    script: 'scripts/size.mjs',
    what: "wayflow's own min+gzip share of a real React + react-router + IndexedDB app bundle (scripts/size-app.tsx)",
    figures: (j) => ({
      'bundle.app': figure(j.app ? j.app.gzip / 1024 : null, 'KB', {
        goal: '≤ 15 KB min+gzip',
        met: j.app ? j.app.gzip <= 15 * 1024 && j.app.packages.length === 0 : null,
        note: j.entries?.wayflow ? `core alone ${round(j.entries.wayflow.gzip / 1024)} KB; zod only if the app imports it` : undefined,
      }),
    }),
  },
  server: {
    script: 'bench/server.mjs',
    what: 'the tasks API (PUT If-Match + GET) against a bare node:http server doing the same SQL',
    figures: (j) => ({
      // The ratio is the median of the rounds' own ratios (each round runs the API and its baseline back to back).
      'server.tasks.pglite': figure(j.pgliteApi?.pairsPerSecond, 'put+get/s', {
        baseline: j.pgliteBareHttp?.pairsPerSecond,
        ratio: tasksRatio(j, 'pgliteApi', 'pgliteBareHttp'),
        goal: '≥ 0.9x the bare node:http baseline',
        met: j.pgliteApi && j.pgliteBareHttp ? tasksRatio(j, 'pgliteApi', 'pgliteBareHttp') >= 0.9 : null,
        p99: round(j.pgliteApi?.put?.p99),
      }),
      'server.tasks.pg2': figure(j.postgresApi2?.pairsPerSecond, 'put+get/s', {
        baseline: j.postgresBareHttp2?.pairsPerSecond,
        ratio: tasksRatio(j, 'postgresApi2', 'postgresBareHttp2'),
        goal: '≥ 0.9x the bare node:http baseline (2 processes)',
        met: j.postgresApi2 && j.postgresBareHttp2 ? tasksRatio(j, 'postgresApi2', 'postgresBareHttp2') >= 0.9 : null,
        p99: round(j.postgresApi2?.put?.p99),
      }),
      ...(j.startApi2 && {
        'automations.create.pg2': figure(j.startApi2.startsPerSecond, 'instances/s', {
          baseline: j.startBare2?.startsPerSecond,
          goal: '≥ 1,000/s through the HTTP API, 2 processes',
          met: j.startApi2.startsPerSecond >= 1000,
          p99: round(j.startApi2.p99),
          note: j.startApi1 ? `1 process: ${Math.round(j.startApi1.startsPerSecond)}/s; baseline: bare node:http writing the same rows in one transaction` : undefined,
        }),
      }),
    }),
  },
  automations: {
    script: 'bench/automations.mjs',
    what: 'automation scheduler on PostgreSQL and PGlite, pg-boss 12 draining the same backlog in the same run',
    figures: (j) => {
      const by = (prefix) => j.scenarios?.find((s) => s.scenario.startsWith(prefix));
      const pg1 = by('PostgreSQL, 1 ');
      const pg2 = by('PostgreSQL, 2 ');
      const boss2 = j.pgBoss?.find((r) => r.workers === 2);
      const late = [by('PGlite'), pg1, pg2].filter((s) => s?.lateness);
      const worst = late.length ? late.reduce((a, b) => (a.lateness.p99 >= b.lateness.p99 ? a : b)) : null;
      return {
        'automations.drain.pg2': figure(pg2?.stepsPerSecond, 'steps/s', {
          baseline: boss2?.jobsPerSecond,
          goal: '≥ pg-boss 12 with 2 workers in the same run; 2 schedulers ≥ 1.7x one',
          met: pg2 && boss2 && pg1 ? pg2.stepsPerSecond >= boss2.jobsPerSecond && pg2.stepsPerSecond >= 1.7 * pg1.stepsPerSecond : null,
          note: pg1 ? `1 scheduler: ${pg1.stepsPerSecond} steps/s (2 = ${round(pg2?.stepsPerSecond / pg1.stepsPerSecond)}x)` : undefined,
        }),
        'automations.lateness.p99': figure(worst?.lateness.p99, 'ms', {
          goal: '< 50 ms with 10,000 instances waiting (PGlite and PostgreSQL)',
          met: worst ? worst.lateness.p99 < 50 : null,
          note: late.map((s) => `${s.scenario}: p99 ${s.lateness.p99} ms`).join('; '),
        }),
        ...(pg2 && {
          'automations.create.runner': figure(pg2.createPerSecond, 'instances/s', { goal: 'reported (one caller through the runner, one instance at a time)' }),
        }),
      };
    },
    plots: (j) => {
      const pg = (j.scenarios ?? []).filter((s) => /^PostgreSQL, \d/.test(s.scenario)).map((s) => [Number(/\d+/.exec(s.scenario)[0]), s.stepsPerSecond]);
      const lateness = (j.scenarios ?? []).find((s) => s.scenario.startsWith('PostgreSQL, 2 ') && s.latenessSamples?.length) ?? (j.scenarios ?? []).find((s) => s.latenessSamples?.length);
      return {
        ...(pg.length > 1 && {
          'automation-throughput': lineChart({
            title: 'Backlog drain by scheduler processes (PostgreSQL)',
            xLabel: 'processes',
            yLabel: 'per second',
            series: [
              { name: 'wayflow automation steps/s', points: pg },
              ...(j.pgBoss?.length ? [{ name: 'pg-boss 12 jobs/s (same run)', points: j.pgBoss.map((r) => [r.workers, r.jobsPerSecond]), dashed: true }] : []),
            ],
          }),
        }),
        ...(lateness && {
          'timer-lateness': histogram({
            title: `Timer lateness, ${lateness.scenario}`,
            xLabel: 'ms after the due time',
            values: lateness.latenessSamples,
            marks: [
              { at: lateness.lateness.p50, label: `p50 ${lateness.lateness.p50} ms` },
              { at: lateness.lateness.p99, label: `p99 ${lateness.lateness.p99} ms` },
            ],
          }),
        }),
      };
    },
  },
  sync: {
    script: 'bench/sync.mjs',
    what: 'automation status pushed to watching browsers over event streams, against polling',
    figures: (j) => ({
      'sync.push.p99': figure(j.streams?.latencyMs?.p99, 'ms', {
        baseline: j.polling?.latencyMs?.p99,
        goal: '< 100 ms from a form submit to the watcher’s status',
        met: j.streams?.latencyMs ? j.streams.latencyMs.p99 < 100 : null,
        note: j.streams?.latencyMs ? `p50 ${j.streams.latencyMs.p50} ms; baseline: polling every second` : undefined,
      }),
    }),
  },
};
