import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type Actor, createAutomationRunner, defineAutomation, flow, ManualClock } from '../../../src/automations/index.ts';
import { instancesAtNode, type NodeFigures, nodeCounts } from '../../../src/server/automations/node-counts.ts';
import { type AutomationDb, pgliteAutomationDb, postgresAutomationDb } from './db.ts';

const ok = z.object({ ok: z.boolean() });
const failing = (node: string) => (ctx: { data: Record<string, unknown> }) => {
  if (ctx.data.failAt === node) throw new Error(`${node} failed`);
};
/** A start that may fail (the path stops there), a split whose `sign` branch may fail into the join (OnError), a form on each side. */
const shaky = defineAutomation('Shaky', {
  nodes: {
    start: flow.execute(failing('start')),
    fork: flow.split().next('check').next('sign'),
    check: flow.form(ok).next('meet'),
    sign: flow.execute(failing('sign')).onError('meet'),
    meet: flow.join(),
    approve: flow.form(ok),
    end: flow.end(),
  },
});
/** Another automation in the same tables, whose figures must not leak into Shaky's. */
const other = defineAutomation('Other', { nodes: { start: flow.execute(failing('start')), approve: flow.form(ok), end: flow.end() } });
const root: Actor = { id: 'root', superuser: true };

type Op = { kind: 'create'; automation: 'Shaky' | 'Other'; failAt: string | null } | { kind: 'submit'; pick: number };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('create' as const), automation: fc.constantFrom('Shaky' as const, 'Other' as const), failAt: fc.constantFrom(null, 'start', 'sign') }),
  fc.record({ kind: fc.constant('submit' as const), pick: fc.nat() }),
);

describe.each([
  ['PGlite', pgliteAutomationDb],
  ['PostgreSQL', postgresAutomationDb],
] as [string, () => Promise<AutomationDb>][])('node counts on %s', (_, open) => {
  let database: AutomationDb;
  beforeAll(async () => {
    database = await open();
  });
  afterAll(() => database?.close());

  it('counts, per node, the instances waiting there, the visits that passed and the errors, as the loaded instances and history say', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 12 }), async (ops) => {
        await database.reset();
        const storage = await database.storage({ notify: false });
        const runner = createAutomationRunner({ storage, clock: new ManualClock(1_800_000_000_000), automations: [shaky, other] });
        for (const step of ops) {
          if (step.kind === 'create') await runner.create(step.automation, step.failAt ? { failAt: step.failAt } : {});
          if (step.kind === 'submit') {
            const forms = await runner.openForms(root);
            const form = forms[step.pick % Math.max(1, forms.length)];
            if (form) await runner.submitForm(form.instanceId, { taskId: form.taskId }, root, { ok: true });
          }
        }
        const sql = { query: database.sql };
        for (const automation of ['Shaky', 'Other']) {
          const expected = new Map<string, NodeFigures>();
          const at = (node: string) => {
            const figures = expected.get(node) ?? { waiting: 0, passed: 0, errors: 0 };
            expected.set(node, figures);
            return figures;
          };
          const waitingAt = new Map<string, string[]>();
          for (const instance of await runner.list({ automation })) {
            const history = await runner.history(instance.id);
            const failed = (taskId: number) => history.some((row) => row.taskId === taskId && row.finished !== null && !['OK', 'skipped', 'ended', 'stopped'].includes(row.message ?? ''));
            for (const row of history) {
              if (row.message === 'OK') at(row.status).passed++;
              else if (row.finished !== null && !['skipped', 'ended', 'stopped'].includes(row.message ?? '')) at(row.status).errors++;
            }
            if (instance.finished) continue;
            for (const path of instance.paths) if (path.status === 'error' && !failed(path.taskId)) at(path.node).errors++;
            for (const node of new Set(instance.paths.filter((path) => path.status !== 'error').map((path) => path.node))) at(node).waiting++;
            for (const node of new Set(instance.paths.map((path) => path.node))) waitingAt.set(node, [...(waitingAt.get(node) ?? []), instance.id]);
          }
          expect(Object.fromEntries(await nodeCounts(sql, automation))).toEqual(Object.fromEntries(expected));
          for (const node of ['start', 'check', 'sign', 'meet', 'approve']) {
            const listed = await instancesAtNode(sql, automation, node, 100);
            expect(listed.map((instance) => instance.id).sort()).toEqual((waitingAt.get(node) ?? []).sort());
            for (const instance of listed) {
              const record = await runner.get(instance.id);
              const path = record.paths.filter((p) => p.node === node).sort((a, b) => a.enteredAt - b.enteredAt)[0]!;
              expect([instance.since, instance.status, instance.error]).toEqual([path.enteredAt, path.status, path.error ?? null]);
            }
          }
        }
      }),
      { numRuns: 10 },
    );
  }, 180_000);

  it('counts a path stopped by an error as an error of its node even when its visit did not fail (e.g. its next node was removed)', async () => {
    await database.reset();
    const runner = createAutomationRunner({ storage: await database.storage({ notify: false }), clock: new ManualClock(1_800_000_000_000), automations: [other] });
    const stuck = await runner.create('Other', {});
    await runner.create('Other', {});
    // As the engine leaves it when a node has no next node any more: the path stays at the node, stopped, its visit not failed.
    const paths = stuck.paths.map((path) => ({ ...path, status: 'error', error: 'node "approve" has no next node' }));
    await database.sql(`UPDATE wayflow_automation_instances SET state = jsonb_set(state::jsonb, '{paths}', $2::jsonb)::text WHERE id = $1`, [stuck.id, JSON.stringify(paths)]);
    const sql = { query: database.sql };
    expect((await nodeCounts(sql, 'Other')).get('approve')).toEqual({ waiting: 1, passed: 0, errors: 1 });
    const listed = await instancesAtNode(sql, 'Other', 'approve', 10);
    expect(listed.find((instance) => instance.id === stuck.id)).toMatchObject({ status: 'error', error: 'node "approve" has no next node' });
  }, 60_000);

  it('lists the instances at a node the longest there first, at most the limit', async () => {
    await database.reset();
    const clock = new ManualClock(1_800_000_000_000);
    const runner = createAutomationRunner({ storage: await database.storage({ notify: false }), clock, automations: [other] });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await runner.create('Other', {})).id);
      clock.advance(1000);
    }
    const listed = await instancesAtNode({ query: database.sql }, 'Other', 'approve', 2);
    expect(listed.map((instance) => [instance.id, instance.status])).toEqual([
      [ids[0], 'form'],
      [ids[1], 'form'],
    ]);
  }, 60_000);
});
