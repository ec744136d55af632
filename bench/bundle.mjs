// Bundles a small entry module of a benchmark's server process (not part of the test run).
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Bundles the TypeScript module `contents` (its imports resolved from the repository root)
 * into a folder `node_modules/.cache/<prefix>…`, removed when the process exits, with the
 * packages left external so they resolve to this repository's node_modules. Resolves to the
 * bundle's path.
 */
export async function bundleEntry(prefix, contents) {
  const { build } = await import('esbuild');
  await mkdir(join(ROOT, 'node_modules/.cache'), { recursive: true });
  const out = await mkdtemp(join(ROOT, `node_modules/.cache/${prefix}`));
  process.once('exit', () => rmSync(out, { recursive: true, force: true }));
  const bundle = join(out, 'bundle.mjs');
  await build({ stdin: { contents, resolveDir: ROOT, loader: 'ts' }, bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: bundle, logLevel: 'silent' });
  return bundle;
}
