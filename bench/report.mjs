// BENCHMARKS.md from bench/results.json: the table of published figures, the plots and the method.

const ORDER = [
  'persist.cycle.strict',
  'persist.cycle.relaxed',
  'persist.restore100k',
  'peers.xstate',
  'peers.rsw',
  'peers.stepperize',
  'compile.1000',
  'memory.task1000',
  'bundle.app',
  'server.tasks.pglite',
  'server.tasks.pg2',
  'automations.drain.pg2',
  'automations.lateness.p99',
  'automations.create.pg2',
  'automations.create.runner',
  'sync.push.p99',
];

const num = (v) => (v === null || v === undefined ? '–' : Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en') : String(v));
const met = (m) => (m === true ? 'met' : m === false ? '**not met**' : '–');

/** The report's machine line: the one machine every area was measured on, or each machine with its areas (a partial run keeps the others' figures). */
function machines(results) {
  const byMachine = new Map();
  for (const [area, { machine }] of Object.entries(results.areas ?? {})) {
    const name = machine ?? results.machine;
    byMachine.set(name, [...(byMachine.get(name) ?? []), area]);
  }
  if (byMachine.size <= 1) return `- Machine: ${[...byMachine.keys()][0] ?? results.machine}`;
  return [...byMachine].map(([name, areas]) => `- Machine of ${areas.join(', ')}: ${name}`).join('\n');
}

/** The Markdown report of `results` (the shape bench/run.mjs writes). */
export function renderReport(results) {
  const ids = [...ORDER.filter((id) => id in results.figures), ...Object.keys(results.figures).filter((id) => !ORDER.includes(id)).sort()];
  const rows = ids.map((id) => {
    const f = results.figures[id];
    const tail = [f.p95 !== undefined ? `p95 ${num(f.p95)}` : null, f.p99 !== undefined ? `p99 ${num(f.p99)}` : null].filter(Boolean).join(', ') || '–';
    return `| \`${id}\` | ${num(f.value)} ${f.unit} | ${tail} | ${num(f.baseline)} | ${f.ratio === null ? '–' : `${f.ratio}x`} | ${f.goal || '–'} | ${met(f.met)} | ${f.at.slice(0, 10)} | ${f.note ?? ''} |`;
  });
  const plots = Object.entries(results.plots ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, p]) => `### ${name}\n\n![${name}](${p.file})\n`);
  return `# Benchmarks

Measured by \`npm run bench\` (or \`npm run bench -- <area>\`) on ${results.at.slice(0, 10)}; the
figures also live in [bench/results.json](bench/results.json) for other tools. Each figure has
its baseline measured in the same run and the goal it is held to, met or not.

${machines(results)}
- Node ${results.node}${results.chromium ? `, Chromium ${results.chromium}` : ''}

| figure | median | tail | baseline | ratio | goal | | measured | note |
| --- | ---: | --- | ---: | ---: | --- | --- | --- | --- |
${rows.join('\n')}

## Plots

${plots.join('\n') || 'None yet: run `npm run bench`.'}

## Method

- **Browser figures** run in headless Chromium with a profile on disk
  (\`launchPersistentContext\` on a temporary folder): IndexedDB commits reach the disk as in a
  user's browser. An off-the-record context keeps IndexedDB in memory, where durability
  settings change nothing and every contender looks faster. Pages are cross-origin isolated
  (COOP/COEP) so \`performance.now()\` has microsecond resolution. Flags: \`--no-sandbox
  --disable-gpu --disable-background-networking --disable-component-update --disable-sync
  --no-first-run --disable-quic\`.
- **Warm-up and rounds**: every browser figure warms up first (JIT, database creation), then
  compared variants alternate sample by sample and in rounds, so slow phases of a busy
  machine hit every side alike; a figure is the median of its rounds.
- **persist.cycle**: one submit → transition → IndexedDB commit of a wayflow task against a
  hand-written XState + idb wizard keeping the same state (data, the trail of visited steps
  with data snapshots for Back, inputs, visit counts, history) with a compare-and-set on the
  version in the same transaction. The baseline does not validate stored records, keep a
  task index or notify subscribers.
- **peers**: the same 5-step checkout (labelled inputs, zod schemas, React 19 production build,
  each step committed to IndexedDB with strict durability before its heading shows) written with
  wayflow (\`FlowView\`, \`StepForm\`, \`indexedDbStore\`) and with XState 5 + @xstate/react,
  react-use-wizard and @stepperize/react, each with idb by hand (bench/peers/). A step is timed from
  the click on Continue to the next heading in the DOM; 10 rounds of 12 checkouts per contender,
  the order rotated each round. The peers keep no version check, Back data, history, focus or
  live region; React commits per step are counted with a Profiler in React's profiling build.
- **persist.restore100k**: load, validate, migrate and restore a task holding ~100 KB of data,
  against reading the same record with idb and resolving it into a running XState actor.
- **compile.1000**: median compile (validation + XState machine) of a fresh 1,000-action,
  10-deep flow in a production build; the note gives the development build. **memory.task1000**:
  heap per live task of that flow, five steps in, over 1,000 tasks (\`--expose-gc\`).
- **server.tasks**: virtual users loop PUT (If-Match) then GET of their own task against the
  API and against a bare \`node:http\` server doing the same conditional SQL without Hono,
  sessions, validation, rate limits or logs, in as many processes. Every server is warmed up
  once before the rounds; then 7 rounds of 2.5 s in which the API and its baseline run back to
  back, in the other order every other round; the ratio is the median of the rounds' own
  ratios (the machine's load drifts over a run, much less over one round), the put+get/s the
  median round. Each scenario also gives the CPU time of its server processes and, on
  PostgreSQL, of the database backends serving them, per put+get.
- **automations.create**: 16 users \`POST /automations/start\` (an execute node, then a form)
  against 1 and 2 \`wayflow serve --automations\` processes on PostgreSQL, a new session every 50
  starts; the baseline is the bare \`node:http\` server writing the same rows (key, instance,
  history) in one transaction. Every server is warmed up once before the interleaved rounds;
  server and database CPU per start are reported beside the starts per second.
- **automations**: 10,000 instances wait far in the future; 1,000 probes fall due over 10 s
  (timer lateness = when the node ran − its due time); then a backlog of 20,000 instances falls
  due at once (steps per second while it drains). The yardstick is pg-boss 12 draining the
  same number of jobs with as many worker processes, each its own PgBoss instance and pool,
  started and connected before the clock starts, fetching and completing in batches of 20 (its
  fast path), in the same run on the same PostgreSQL.
- **sync.push**: from a back-office form submit to the watching browser's status event,
  with 50 watchers on event streams; the baseline is the client's fallback of polling.
- The load generator, servers and databases share the machine's CPUs; the machine lines say
  how many (for each area: a partial run keeps the figures of the areas it did not run), and the
  load average at the start. Every server, scheduler process and pg-boss
  worker runs in a session of its own, as a service does (Linux's autogroup scheduler shares the
  CPU between sessions, and every PostgreSQL backend is one).
`;
}
