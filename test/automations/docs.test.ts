import { execFile } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { FlowControl, ManualClock } from '../../src/automations/index.ts';
import { loadAutomationModule } from '../../src/server/index.ts';
import { docExamples, exampleRunner } from '../helpers/doc-examples.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { blocks } = await docExamples('docs/automations.md');
const examples = await exampleRunner('automations-docs');
const dir = examples.dir;
afterAll(() => examples.close());

/**
 * How the examples run (block numbers count the ```ts blocks of docs/automations.md from 1).
 * Blocks that build on earlier ones (the import block, the `webinar` definition, the `runner`,
 * the flowcontrol `clock` and `onboarding` flow, the django-ws `json`) are concatenated with
 * them in document order and run as one module; every other block runs alone.
 */
const runs: { blocks: number[]; what: string }[] = [
  { blocks: [1, 2, 3, 4], what: 'the imports, the webinar definition, running it, messages' },
  { blocks: [5], what: 'drawing a process: automationGraph' },
  { blocks: [6], what: 'the pure engine' },
  { blocks: [7], what: 'running on a database (PGlite in memory)' },
  { blocks: [8, 9, 11], what: 'flowcontrol runs in memory, on a database, child runs' },
  { blocks: [12, 13], what: 'django-ws JSON workflows on the runner, then the pure functions' },
];
/** Block 10 is the module given with `--automations`; it is loaded with `loadAutomationModule`, as the commands load it. */
const moduleBlock = 10;

describe('docs/automations.md', () => {
  it('has 13 examples, each run exactly once below', () => {
    expect(blocks).toHaveLength(13);
    const covered = [...runs.flatMap((run) => run.blocks), moduleBlock].sort((a, b) => a - b);
    expect(covered).toEqual(blocks.map((_, index) => index + 1));
  });

  for (const run of runs) {
    it(`runs example${run.blocks.length > 1 ? 's' : ''} ${run.blocks.join(' + ')} (${run.what}) and logs what the docs say`, async () => {
      const code = run.blocks.map((n) => blocks[n - 1]!).join('\n');
      const checks = await examples.run(code, `example-${run.blocks.join('-')}`);
      expect(checks.map(([logged]) => logged)).toEqual(checks.map(([, expected]) => expected));
      expect(checks).toHaveLength(code.split('// =>').length - 1);
      expect(checks.length).toBeGreaterThan(0);
    });
  }

  it(`loads example ${moduleBlock} (dist/flows.js) as an --automations module, and its flow runs`, async () => {
    const file = join(dir, 'flows.js');
    await writeFile(file, blocks[moduleBlock - 1]!);
    const loaded = await loadAutomationModule(file);
    expect(loaded.automations).toEqual([]);
    expect(loaded.flows.map((flow) => flow.name)).toEqual(['onboarding']);
    expect(loaded.triggers).toEqual([{ name: 'user_created', label: 'User created' }]);

    const clock = new ManualClock(Date.UTC(2026, 2, 2, 9));
    const control = new FlowControl({ clock, flows: loaded.flows });
    const [run] = await control.triggerFlows('user_created', { objectId: 'user:1', immediate: true });
    expect(run).toMatchObject({ status: 'waiting', state: { welcomed: true }, continueAfter: clock.now() + 24 * 3_600_000 });
    clock.advance(24 * 3_600_000);
    expect((await control.continueFlowRuns()).map((r) => r.status)).toEqual(['done']);
  });

  it('type-checks every example against the API (the same groups, and docs/seeds-flowcontrol.md, with tsc and the project options)', async () => {
    const checkDir = join(dir, 'typecheck');
    await mkdir(checkDir);
    // Bare imports (zod, @electric-sql/pglite, @types/node) resolve from the project's packages.
    await symlink(join(root, 'node_modules'), join(checkDir, 'node_modules'), 'dir');
    for (const group of [...runs.map((run) => run.blocks), [moduleBlock]]) {
      await writeFile(join(checkDir, `example-${group.join('-')}.ts`), `${group.map((n) => blocks[n - 1]!).join('\n')}\nexport {};\n`);
    }
    // docs/seeds-flowcontrol.md's example (run by seeds-flowcontrol-docs.test.ts) is checked here too.
    for (const [index, block] of (await docExamples('docs/seeds-flowcontrol.md')).blocks.entries()) {
      await writeFile(join(checkDir, `seeds-flowcontrol-${index + 1}.ts`), `${block}\nexport {};\n`);
    }
    const paths = {
      'wayflow/automations': [join(root, 'src/automations/index.ts')],
      'wayflow/server': [join(root, 'src/server/index.ts')],
    };
    await writeFile(join(checkDir, 'tsconfig.json'), JSON.stringify({ extends: join(root, 'tsconfig.json'), compilerOptions: { paths }, include: ['*.ts'] }));
    const tsc = join(root, 'node_modules/.bin/tsc');
    const output = await promisify(execFile)(tsc, ['--noEmit', '-p', checkDir]).then(
      () => '',
      (error: { stdout?: string; message: string }) => error.stdout || error.message,
    );
    expect(output).toBe('');
  });
});
