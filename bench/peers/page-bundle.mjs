// How the peers race and its profiler build their pages (bench/peers/run.mjs, bench/peers/profile.mjs).
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The root of the checkout whose wayflow races as "before" (env BASELINE), or null. */
export const baseline = process.env.BASELINE ? resolve(process.env.BASELINE) : null;

const root = fileURLToPath(new URL('../..', import.meta.url));
/** Builds before.ts from the BASELINE checkout: its two imports from that root, and that root's imports of packages from this one (one React in the page). */
const fromBaseline = {
  name: 'from-baseline',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (!baseline || args.pluginData === 'redirected') return undefined;
      const redirect = (resolveDir) => b.resolve(args.path, { resolveDir, kind: args.kind, importer: args.importer, pluginData: 'redirected' });
      if (args.importer.endsWith('/bench/peers/before.ts') && args.path.startsWith('.')) return redirect(join(baseline, 'bench/peers'));
      if (args.importer.startsWith(`${baseline}/`) && !args.path.startsWith('.')) return redirect(root);
      return undefined;
    });
  },
};

/** A page script (`entry` relative to bench/peers/) bundled for Chromium with React's production build; `keepNames` and no minifying for profiles. */
export const bundlePage = (entry, { alias = {}, profile = false } = {}) =>
  build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    minify: !profile,
    keepNames: profile,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    alias,
    plugins: [fromBaseline],
    write: false,
    logLevel: 'silent',
  }).then((built) => built.outputFiles[0].contents);

/** The headers of a cross-origin isolated page (microsecond timers). */
export const isolated = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
