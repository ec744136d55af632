import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type Actor, type AutomationRunner, createAutomationRunner, defineAutomation, flow, ManualClock } from '../../../src/automations/index.ts';
import { formNodesFor } from '../../../src/server/sync/forms.ts';
import { type AutomationDb, pgliteAutomationDb, postgresAutomationDb } from './db.ts';

const ok = z.object({ ok: z.boolean() });
/** Two forms open at once (a split), each assigned differently, then one form anybody may process. */
const review = defineAutomation('Review', {
  nodes: {
    fork: flow.split().next('check').next('sign'),
    check: flow.form(ok).group('backoffice').describe('Check the order').next('meet'),
    sign: flow.form(ok).user('ada').permission('orders.sign').describe('Sign it').next('meet'),
    meet: flow.join(),
    approve: flow.form(ok).describe('Anybody may approve'),
    end: flow.end(),
  },
});
/** One form, assigned to a group nobody in the test holds. */
const audit = defineAutomation('Audit', { nodes: { inspect: flow.form(ok).group('auditors'), end: flow.end() } });
const definitions = [review, audit];

const actors: Record<string, Actor> = {
  anonymous: { id: 'session:abc' },
  bo: { id: 'bo', groups: ['backoffice'] },
  ada: { id: 'ada', permissions: ['orders.sign'] },
  adaWithoutPermission: { id: 'ada' },
  root: { id: 'root', superuser: true },
};

type Op = { kind: 'create'; automation: 'Review' | 'Audit' } | { kind: 'submit'; pick: number } | { kind: 'tick' };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('create' as const), automation: fc.constantFrom('Review' as const, 'Audit' as const) }),
  fc.record({ kind: fc.constant('submit' as const), pick: fc.nat() }),
  fc.constant({ kind: 'tick' as const }),
);

/** Plays `ops` on the runner (a submission takes the open form `pick` chooses), calling `after` after each. */
async function play(runner: AutomationRunner, clock: ManualClock, ops: readonly Op[], after: () => Promise<void> = async () => undefined): Promise<void> {
  for (const step of ops) {
    if (step.kind === 'create') await runner.create(step.automation, {});
    if (step.kind === 'tick') clock.advance(60_000);
    if (step.kind === 'submit') {
      const forms = await runner.openForms(actors.root);
      const form = forms[step.pick % Math.max(1, forms.length)];
      if (form) await runner.submitForm(form.instanceId, { taskId: form.taskId }, actors.root!, { ok: true });
    }
    await after();
  }
}

const key = (form: { instanceId: string; taskId: number; node: string; since: number }) => `${form.instanceId}/${form.taskId}/${form.node}/${form.since}`;

describe.each([
  ['PGlite', pgliteAutomationDb],
  ['PostgreSQL', postgresAutomationDb],
] as [string, () => Promise<AutomationDb>][])('the open-forms index on %s', (_, open) => {
  let database: AutomationDb;
  beforeAll(async () => {
    database = await open();
  });
  afterAll(() => database?.close());

  it('lists for every caller exactly the forms the engine says they may process, through any sequence of starts and submissions', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 10 }), async (ops) => {
        await database.reset();
        const storage = await database.storage({ notify: false });
        const clock = new ManualClock(1_800_000_000_000);
        const runner = createAutomationRunner({ storage, clock, automations: definitions });
        await play(runner, clock, ops, async () => {
          for (const actor of Object.values(actors)) {
            const expected = (await runner.openForms(actor)).map(key).sort();
            const indexed = (await storage.openFormsAt(formNodesFor(definitions, actor))).map(key).sort();
            expect(indexed).toEqual(expected);
          }
        });
      }),
      { numRuns: 12 },
    );
  }, 120_000);

  it('counts running and finished instances and the nodes running instances are at in SQL, as the loaded instances say (the dashboard)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 12 }), fc.integer({ min: 1, max: 4 }), async (ops, recent) => {
        await database.reset();
        const storage = await database.storage({ notify: false });
        const clock = new ManualClock(1_800_000_000_000);
        const runner = createAutomationRunner({ storage, clock, automations: definitions });
        await play(runner, clock, ops);
        const summaries = await storage.summary(['Review', 'Audit', 'Unknown'], recent);
        for (const name of ['Review', 'Audit', 'Unknown']) {
          const instances = await runner.list({ automation: name });
          const running = instances.filter((instance) => !instance.finished);
          const nodes = new Map<string, number>();
          for (const instance of running) for (const node of new Set(instance.paths.map((path) => path.node))) nodes.set(node, (nodes.get(node) ?? 0) + 1);
          const newest = [...instances].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)).slice(0, recent);
          const summary = summaries.get(name);
          expect(summary?.running).toBe(running.length);
          expect(summary?.finished).toBe(instances.length - running.length);
          expect(Object.fromEntries(summary?.nodes ?? [])).toEqual(Object.fromEntries(nodes));
          expect(summary?.recent.map((instance) => instance.id)).toEqual(newest.map((instance) => instance.id));
        }
      }),
      { numRuns: 12 },
    );
  }, 120_000);

  it('is rebuilt from the instances by its migration (a database that ran instances before it existed)', async () => {
    await database.reset();
    const storage = await database.storage({ notify: false });
    const runner = createAutomationRunner({ storage, clock: new ManualClock(1_800_000_000_000), automations: definitions });
    for (let i = 0; i < 3; i++) await runner.create('Review', {});
    const done = await runner.create('Audit', {});
    await runner.submitForm(done.id, { node: 'inspect' }, actors.root!, { ok: true });
    const rows = 'SELECT instance_id, task_id, automation, node, since FROM wayflow_automation_open_forms ORDER BY instance_id, task_id';
    const before = await database.sql(rows);
    expect(before).toHaveLength(6);
    await database.sql('DROP TABLE wayflow_automation_open_forms');
    await database.sql('DELETE FROM wayflow_migrations WHERE id = 1003');
    await database.storage({ notify: false });
    expect(await database.sql(rows)).toEqual(before);
  }, 60_000);
});
