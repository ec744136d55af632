import { mkdir, mkdtemp } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Bundles `entryPoints` (name → source file) for processes a test starts, into a new folder
 * inside the repository (so bare imports resolve to node_modules); resolves to that folder,
 * holding `<name>.mjs` per entry. One shared chunk: a scheduler and the automations module it
 * loads use the same engine and transaction store.
 * @example
 * const work = await bundleForProcesses('wayflow-automations-', { main: join(ROOT, 'src/server/automations/main.ts') });
 * spawn(process.execPath, [join(work, 'main.mjs'), 'scheduler', …]);
 */
export async function bundleForProcesses(prefix: string, entryPoints: Record<string, string>): Promise<string> {
  await mkdir(join(ROOT, 'node_modules/.cache'), { recursive: true });
  const work = await mkdtemp(join(ROOT, 'node_modules/.cache', prefix));
  await build({
    entryPoints,
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outdir: work,
    outExtension: { '.js': '.mjs' },
    logLevel: 'silent',
  });
  return work;
}
