// How the peers race and its profilers build their pages (bench/peers/run.mjs, bench/peers/profile.mjs,
// bench/peers/timeline.mjs), and how the profilers open one and trace it (gc.mjs, frames.mjs).
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { resolveChromium } from '../../test/helpers/chromium.mjs';

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

/**
 * Serves `script` (a bundled page) on a cross-origin isolated page at 127.0.0.1 and opens a
 * persistent Chromium context (IndexedDB on disk) in a temporary directory named from `prefix`.
 * `scripts` (path -> bundle) and `html` (the request's URL -> the page's HTML) serve several
 * scripts instead. The page is not loaded yet: attach its handlers, then `page.goto(url)`.
 * `close` closes the context and the server and removes the directory.
 */
export async function openPage(script, prefix, { scripts = { '/page.js': script }, html = () => pageHtml('/page.js') } = {}) {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const body = scripts[url.pathname];
    if (body) response.writeHead(200, { 'content-type': 'text/javascript', ...isolated }).end(body);
    else response.writeHead(200, { 'content-type': 'text/html', ...isolated }).end(html(url));
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const resolved = await resolveChromium();
  const profileDir = await mkdtemp(join(tmpdir(), prefix));
  const context = await chromium.launchPersistentContext(profileDir, { executablePath: resolved.executablePath, args: resolved.args, headless: true });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    page,
    context,
    resolved,
    url: `http://127.0.0.1:${server.address().port}/`,
    async close() {
      await context.close();
      server.close();
      await rm(profileDir, { recursive: true, force: true });
    },
  };
}

/** The HTML of a page that loads the module scripts at `paths`. */
export const pageHtml = (...paths) =>
  `<!doctype html><html lang="en"><meta charset="utf-8"><link rel="icon" href="data:,"><title>peers</title>${paths.map((path) => `<script type="module" src="${path}"></script>`).join('')}`;

/** Loads the race page at `url` in `page` (page errors printed), waits for it, and warms `names` up with `rounds` rounds of `perRound` checkouts. */
export async function warmedUp(page, url, names, rounds, perRound) {
  page.on('pageerror', (error) => console.error('page error:', error.message));
  await page.goto(url);
  await page.waitForFunction(() => 'peersBench' in globalThis && globalThis.crossOriginIsolated);
  await page.evaluate(([n, r, p]) => globalThis.peersBench.race(n, r, p), [names, rounds, perRound]);
}

/** Runs `run` with Chromium's tracing of `categories` on through `cdp` (a CDP session of the page); resolves with the trace events and what `run` resolved with. */
export async function traced(cdp, categories, run) {
  const events = [];
  const onData = ({ value }) => events.push(...value);
  cdp.on('Tracing.dataCollected', onData);
  await cdp.send('Tracing.start', { traceConfig: { includedCategories: categories, excludedCategories: ['*'] }, transferMode: 'ReportEvents' });
  const result = await run();
  const done = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
  await cdp.send('Tracing.end');
  await done;
  cdp.off('Tracing.dataCollected', onData);
  return { events, result };
}
