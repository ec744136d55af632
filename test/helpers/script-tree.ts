import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

/** Runs `scripts/<name>` with `args` in this Node; its status, stdout and stderr. */
export const scriptRunner =
  (name: string) =>
  (...args: string[]) =>
    spawnSync(process.execPath, [fileURLToPath(new URL(`../../scripts/${name}`, import.meta.url)), ...args], { encoding: 'utf8' });

/**
 * Makes temporary package trees for a script's `--root=`, removed after each test: `tree(files, top)`
 * writes `files` (paths below src/) and `top` (paths below the root) and returns the root.
 */
export function scriptTrees(prefix: string): (files: Record<string, string>, top?: Record<string, string>) => string {
  let made: string | null = null;
  afterEach(() => {
    if (made) rmSync(made, { recursive: true, force: true });
    made = null;
  });
  return (files, top = {}) => {
    const root = mkdtempSync(join(tmpdir(), prefix));
    made = root;
    const all = { ...top, ...Object.fromEntries(Object.entries(files).map(([path, text]) => [join('src', path), text])) };
    for (const [path, text] of Object.entries(all)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return root;
  };
}
