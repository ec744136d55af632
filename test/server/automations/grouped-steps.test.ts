import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAutomationRunner, defineAutomation, flow, ManualClock, minutes } from '../../../src/automations/index.ts';
import { automationTransaction, type SqlAutomationStorage, sqlAutomationStorage } from '../../../src/server/automations/index.ts';
import { pgliteDatabase } from '../../../src/server/pglite.ts';
import type { SqlDatabase } from '../../../src/server/sql.ts';
import { T0 } from '../../automations/harness.ts';

// One PGlite for the file (it takes seconds to start); a database wrapper counts transactions and statements.
let pglite: PGlite;
let storage: SqlAutomationStorage;
const counts = { queries: 0, transactions: 0, statements: 0 };
beforeAll(async () => {
  pglite = await PGlite.create();
  const db = pgliteDatabase(pglite);
  const counting: SqlDatabase = {
    query: (text, params) => {
      counts.queries += 1;
      return db.query(text, params);
    },
    transaction: (work) => {
      counts.transactions += 1;
      return db.transaction((tx) =>
        work({
          query: (text, params) => {
            counts.statements += 1;
            return tx.query(text, params);
          },
        }),
      );
    },
    close: async () => undefined,
  };
  storage = await sqlAutomationStorage(counting, { notify: false });
  await pglite.query('CREATE TABLE shipped (key text PRIMARY KEY)');
});
afterAll(() => pglite?.close());
beforeEach(async () => {
  await pglite.exec('TRUNCATE wayflow_automation_instances, wayflow_automation_history, wayflow_automation_messages, wayflow_automation_open_forms, shipped');
});

/** Waits ten minutes, ships (a row written in the step's transaction), then ends: three nodes in one pass once due. */
const delivery = defineAutomation('Delivery', {
  nodes: {
    wait: flow.execute(() => 'waited').afterWaitingFor(minutes(10)),
    ship: flow.execute(async (ctx) => {
      // An order named "poison" writes a row that breaks the statement, as a faulty node function would.
      const key = ctx.data.order === 'poison' ? null : ctx.idempotencyKey;
      await automationTransaction().query('INSERT INTO shipped (key) VALUES ($1)', [key]);
      return 'shipped';
    }),
    end: flow.end(),
  },
});

function setUp(groupSize: number) {
  const clock = new ManualClock(T0);
  const runner = createAutomationRunner({ storage, clock, automations: [delivery], groupSize });
  return { clock, runner };
}

describe('grouped steps on SQL', () => {
  it('runs a scheduler pass over 60 due instances in one transaction per group of 25, with a few statements each', async () => {
    const { clock, runner } = setUp(25);
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) ids.push((await runner.create(delivery, { order: `o${i}` })).id);
    clock.advance(minutes(10));
    counts.queries = 0;
    counts.transactions = 0;
    counts.statements = 0;

    expect(await runner.stepAll()).toEqual({ advanced: 60, delivered: 0 });

    // One look at the outbox, outside a transaction (it is empty: no transaction to deliver in), then groups of 25, 25 and 10.
    expect(counts.queries).toBe(1);
    expect(counts.transactions).toBe(3);
    // Per group the claim and one statement for every write of the group (instances, history,
    // messages); and the 60 writes of the node functions themselves.
    expect(counts.statements).toBe(3 * 2 + 60);
    for (const id of ids) {
      const instance = await runner.get(id);
      expect(instance.finished).toBe(true);
      expect((await runner.history(id)).map((row) => [row.status, row.message, row.result])).toEqual([
        ['wait', 'OK', 'waited'],
        ['ship', 'OK', 'shipped'],
        ['end', 'OK', null],
      ]);
    }
    const [shipped] = (await pglite.query<{ n: number }>('SELECT count(*)::integer AS n FROM shipped')).rows;
    expect(shipped?.n).toBe(60);
  });

  it('runs the instances of a group that failed one transaction each: one failing instance does not hold the others back', async () => {
    const { clock, runner } = setUp(10);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await runner.create(delivery, { order: i === 2 ? 'poison' : `o${i}` })).id);
    clock.advance(minutes(10));

    await expect(runner.stepAll()).rejects.toThrow(/current transaction is aborted/);

    const poisoned = ids[2]!;
    for (const id of ids.filter((id) => id !== poisoned)) expect((await runner.get(id)).finished).toBe(true);
    // The failed instance is as it was before its pass: waiting at its timer, nothing shipped for it.
    const stuck = await runner.get(poisoned);
    expect(stuck.finished).toBe(false);
    expect(stuck.paths.map((path) => path.node)).toEqual(['wait']);
    expect((await runner.history(poisoned)).map((row) => [row.status, row.finished])).toEqual([['wait', null]]);
    const [shipped] = (await pglite.query<{ n: number }>('SELECT count(*)::integer AS n FROM shipped')).rows;
    expect(shipped?.n).toBe(5);
  });

  it('creates an instance and runs its first nodes in one transaction of one statement', async () => {
    const { runner } = setUp(25);
    const quickly = defineAutomation('Quickly', { nodes: { note: flow.execute(() => 'noted'), end: flow.end() } });
    runner.register(quickly);
    counts.transactions = 0;
    counts.statements = 0;

    const created = await runner.create(quickly, {});

    expect(counts.transactions).toBe(1);
    expect(counts.statements).toBe(1);
    expect(created.finished).toBe(true);
    expect((await runner.history(created.id)).map((row) => [row.status, row.message])).toEqual([
      ['note', 'OK'],
      ['end', 'OK'],
    ]);
  });
});
