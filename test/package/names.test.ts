import { describe, expect, it } from 'vitest';
import { scriptRunner, scriptTrees } from '../helpers/script-tree.ts';

const check = scriptRunner('check-names.mjs');
const tree = scriptTrees('wayflow-names-');
const exports = {
  '.': { types: './dist/types/core/index.d.ts', import: './dist/core.js' },
  './persist': { types: './dist/types/persist/index.d.ts', import: './dist/persist.js' },
};
/** A package with the entries `wayflow` (src/core) and `wayflow/persist` (src/persist), holding `files` (paths below src/). */
const sources = (files: Record<string, string>) => tree(files, { 'package.json': JSON.stringify({ name: 'wayflow', exports }) });

describe('names across public entries (npm run lint)', () => {
  it('passes for wayflow’s own entries', () => {
    const run = check();
    expect(run.status, run.stderr).toBe(0);
  });

  it('lets two entries export the same declaration, however it is re-exported', () => {
    const root = sources({
      'core/index.ts': "export { Clock, type Options } from './clock.ts';\nexport * from './errors.ts';\n",
      'core/clock.ts': 'export class Clock {}\nexport interface Options {\n  clock?: Clock;\n}\n',
      'core/errors.ts': 'export class WayflowError extends Error {}\n',
      'persist/index.ts': "import { Clock } from '../core/index.ts';\nexport { Clock };\nexport { WayflowError, type Options } from '../core/index.ts';\n",
    });
    const run = check(`--root=${root}`);
    expect(run.status, run.stderr).toBe(0);
  });

  it('refuses a name two entries export for different things, naming both', () => {
    const root = sources({
      'core/index.ts': "export { type Clock } from './task.ts';\n",
      'core/task.ts': 'export interface Clock {\n  now(): number;\n}\n',
      'persist/index.ts': "export { StoreClock as Clock } from './open.ts';\n",
      'persist/open.ts': '/** A clock. */\nexport const StoreClock = { now: Date.now };\n',
    });
    const run = check(`--root=${root}`);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('"Clock" names 2 different things: wayflow (src/core/task.ts#Clock); wayflow/persist (src/persist/open.ts#StoreClock)');
    expect(run.stderr).toContain('1 name(s) exported by several entries with different meanings');
  });
});
