import { describe, expect, it } from 'vitest';
import { scriptRunner, scriptTrees } from '../helpers/script-tree.ts';

const check = scriptRunner('check-imports.mjs');
/** A source tree holding `files` (paths below src/). */
const sources = scriptTrees('wayflow-imports-');

const core = { 'core/index.ts': "export { a } from './a.ts';\n", 'core/a.ts': 'export const a = 1;\n', 'core/shared.ts': "export { a } from './a.ts';\n" };

describe('imports across src folders (npm run lint)', () => {
  it('passes for wayflow’s own sources', () => {
    const run = check();
    expect(run.status, run.stderr).toBe(0);
  });

  it('lets a folder import another one’s index.ts (or core/shared.ts) and its own files freely', () => {
    const root = sources({
      ...core,
      'persist/index.ts': "export { b } from './b.ts';\n",
      'persist/b.ts': "import { a } from '../core/index.ts';\nimport { a as same } from '../core/shared.ts';\nexport const b = a + same;\n",
      'react/fields/select.tsx': "import { b } from '../../persist/index.ts';\nimport { c } from '../hooks.ts';\nexport const s = b + c;\n",
      'react/hooks.ts': 'export const c = 1;\n',
      'react/index.ts': "export { c } from './hooks.ts';\n",
    });
    const run = check(`--root=${root}`);
    expect(run.status, run.stderr).toBe(0);
  });

  it('refuses an import of another folder’s internal file, naming the file, the import and the way out', () => {
    const root = sources({
      ...core,
      'persist/index.ts': "export { b } from './b.ts';\n",
      'persist/b.ts': "import { a } from '../core/a.ts';\nexport const b = a;\n",
      'router/index.ts': "export type { A } from '../persist/b.ts';\n",
    });
    const run = check(`--root=${root}`);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('src/persist/b.ts: imports ../core/a.ts, an internal file of src/core; import src/core/index.ts');
    expect(run.stderr).toContain('src/router/index.ts: imports ../persist/b.ts, an internal file of src/persist');
    expect(run.stderr).toContain('2 import(s) reach into another folder');
  });
});
