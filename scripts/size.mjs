// Bundles each public entry with its peers (and the other wayflow entries it imports) left
// out, minifies and gzips it for production and for development, prints both
// figures and fails when a production bundle is over its budget. Then bundles a real app
// (scripts/size-app.tsx: React, IndexedDB, react-router) with and without wayflow and fails
// when wayflow's share is over the app budget or the bundle holds a package the app did not
// ask for (zod, say).
// Development-only checks (definition linting) sit behind
// `process.env.NODE_ENV !== 'production'`, which bundlers replace.
import { writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const peers = ['xstate', 'zod', 'react', 'react-dom', 'react-router', 'idb', 'hono', 'react/jsx-runtime'];
const budgets = [
  // 6 KB, with a step's write started within the click (no wait before the store's put when the queue is idle and the schema synchronous; issue 18).
  { entry: 'src/core/index.ts', name: 'wayflow', limit: 6 * 1024 },
  { entry: 'src/core/graph.ts', name: 'wayflow/graph' },
  // 10.5 KB: every store (memory, IndexedDB, remote: HTTP client, offline outbox, adapter), tabs, migrations, record checks; no schema library.
  { entry: 'src/persist/index.ts', name: 'wayflow/persist', limit: 10.5 * 1024, excludeCore: true },
  // 3.6 KB: every built-in string is a replaceable message (i18n), opening is StrictMode-safe, useTask keeps one subscription per task (issue 14)
  // and shows a move busy only after 100 ms, all components in one commit (issue 18: one commit per step).
  { entry: 'src/react/index.ts', name: 'wayflow/react', limit: 3.6 * 1024, excludeCore: true },
  { entry: 'src/router/index.ts', name: 'wayflow/router', limit: 3 * 1024, excludeCore: true },
  { entry: 'src/automations/index.ts', name: 'wayflow/automations', excludeCore: true },
  { entry: 'src/sync/index.ts', name: 'wayflow/sync', limit: 3 * 1024, excludeCore: true },
  // 3.25 KB: the task list, the dashboard, an instance, a form task, and the live process map (AutomationMap, about 0.3 KB).
  { entry: 'src/react/automations/index.ts', name: 'wayflow/react/automations', limit: 3.25 * 1024, excludeCore: true },
  { entry: 'src/react/save/index.ts', name: 'wayflow/react/save', limit: 1024, excludeCore: true },
  { entry: 'src/react/fields/index.ts', name: 'wayflow/react/fields', limit: 3 * 1024, excludeCore: true },
  { entry: 'src/react/map/index.ts', name: 'wayflow/react/map', limit: 2.5 * 1024, excludeCore: true },
  // 0.75 KB: a flow's funnel (bars and its table); apart from the map, whose 2.5 KB it did not fit in.
  { entry: 'src/react/funnel/index.ts', name: 'wayflow/react/funnel', limit: 0.75 * 1024, excludeCore: true },
];

/** Leaves out imports that cross from one wayflow entry folder into another (they ship as their own entries). */
const leaveOutOwnEntries = {
  name: 'leave-out-own-entries',
  setup(b) {
    const folderOf = (path) => path.match(/src\/(core|persist|sync|react\/automations|react\/save|react\/fields|react)\//)?.[1];
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      const target = folderOf(`${args.resolveDir}/${args.path}`.replace(/\/[^/]+\/\.\.\//g, '/'));
      if (args.kind !== "entry-point" && target && target !== folderOf(args.importer)) return { path: args.path, external: true };
      return undefined;
    });
  },
};

async function gzipped(entry, env, excludeCore) {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    write: false,
    external: peers,
    platform: 'neutral',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': JSON.stringify(env) },
    plugins: excludeCore ? [leaveOutOwnEntries] : [],
  });
  const code = result.outputFiles[0].contents;
  return { min: code.length, gz: gzipSync(code, { level: 9 }).length };
}

const kb = (n) => `${(n / 1024).toFixed(2)} KB`;
let failed = false;
const figures = { entries: {}, app: null };
for (const { entry, name, limit, excludeCore } of budgets) {
  if (!existsSync(entry)) continue;
  const prod = await gzipped(entry, 'production', excludeCore);
  const dev = await gzipped(entry, 'development', excludeCore);
  const ok = limit === undefined || prod.gz <= limit;
  failed ||= !ok;
  const budget = limit === undefined ? 'no budget' : `budget ${kb(limit)}`;
  console.log(`${ok ? "ok  " : "OVER"} ${name.padEnd(26)} ${kb(prod.gz)} (${prod.gz} B) min+gzip (${budget}; development build ${kb(dev.gz)})`);
  figures.entries[name] = { gzip: prod.gz, limit: limit ?? null };
}

/** What a React app with IndexedDB using `wayflow`, `wayflow/persist`, `wayflow/react` and `wayflow/router` pays for wayflow. */
// 15 KB (issue 14), with issue 18 in it: a step's write started within the click (core, and IndexedDB's open database kept),
// busy shown only for moves slower than 100 ms, in one commit.
const APP_LIMIT = 15 * 1024;
/** The app's own dependencies, left out: what remains is the app's code and wayflow. */
const appPeers = ['react', 'react-dom', 'react-dom/client', 'react/jsx-runtime', 'react-router', 'idb', 'xstate'];
/** Resolves `wayflow/...` to the sources, as the package's exports map resolves it to dist/. */
const wayflowSources = {
  name: 'wayflow-sources',
  setup(b) {
    const entries = { wayflow: 'src/core/index.ts', 'wayflow/persist': 'src/persist/index.ts', 'wayflow/react': 'src/react/index.ts', 'wayflow/router': 'src/router/index.ts' };
    b.onResolve({ filter: /^wayflow(\/|$)/ }, (args) => ({ path: resolve(entries[args.path]) }));
  },
};

async function appBundle(withWayflow) {
  const result = await build({
    entryPoints: ['scripts/size-app.tsx'],
    bundle: true,
    minify: true,
    format: 'esm',
    write: false,
    metafile: true,
    jsx: 'automatic',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
    external: withWayflow ? appPeers : [...appPeers, 'wayflow', 'wayflow/*'],
    plugins: withWayflow ? [wayflowSources] : [],
  });
  const packages = new Set(Object.keys(result.metafile.inputs).flatMap((input) => input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1] ?? []));
  return { gz: gzipSync(result.outputFiles[0].contents, { level: 9 }).length, packages: [...packages] };
}

const app = await appBundle(true);
const share = app.gz - (await appBundle(false)).gz;
const appOk = share <= APP_LIMIT;
console.log(`${appOk ? 'ok  ' : 'OVER'} ${'app (core+persist+react+router)'.padEnd(26)} ${kb(share)} (${share} B) min+gzip of wayflow in a React app with IndexedDB (budget ${kb(APP_LIMIT)})`);
if (app.packages.length > 0) console.error(`size: the app bundle holds ${app.packages.join(', ')}, which the app does not import: wayflow pulls it in`);
failed ||= !appOk || app.packages.length > 0;
figures.app = { gzip: share, limit: APP_LIMIT, packages: app.packages };
// BENCH_JSON=file also writes the figures (npm run bench -- bundle).
if (process.env.BENCH_JSON) await writeFile(process.env.BENCH_JSON, JSON.stringify(figures, null, 2));
if (failed) {
  console.error('size: an entry is over its budget');
  process.exit(1);
}
