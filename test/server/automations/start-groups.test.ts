import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { type AutomationRunner, createAutomationRunner, defineAutomation, flow, type GroupStart } from '../../../src/automations/index.ts';
import { automationTransaction, sqlTransactionOf, type SqlAutomationStorage } from '../../../src/server/automations/index.ts';
import { type AutomationDb, pgliteAutomationDb, postgresAutomationDb } from './db.ts';

/** Records each start's key in `start_keys` (as the sync routes record an Idempotency-Key); its first node reads it back. */
const keyed = defineAutomation('Keyed', {
  nodes: {
    check: flow.execute(async (ctx) => {
      const rows = await automationTransaction().query<{ n: number }>('SELECT count(*)::integer AS n FROM start_keys WHERE instance_id = $1', [ctx.instanceId]);
      ctx.data.keySeen = rows[0]?.n ?? 0;
    }),
    review: flow.form(z.object({ ok: z.boolean() })),
    end: flow.end(),
  },
});

class RefusedStart extends Error {
  override readonly name = 'RefusedStart';
}

/** A start of Keyed whose transaction records `key`, then fails as `fail` says (before its nodes run; `leave`: before it records the key). */
const start = (key: string, fail?: 'throw' | 'sql' | 'leave'): GroupStart => ({
  automation: keyed,
  data: { key },
  options: {
    inTransaction: async (instance, tx) => {
      if (fail === 'leave') throw new RefusedStart(`start ${key} refused`);
      await sqlTransactionOf(tx).query('INSERT INTO start_keys (key, instance_id) VALUES ($1, $2)', [key, instance.id]);
      if (fail === 'throw') throw new RefusedStart(`start ${key} refused`);
      if (fail === 'sql') await sqlTransactionOf(tx).query('SELECT 1 / (length($1) - length($1))', [key]);
    },
  },
});

describe.each([
  ['PGlite', pgliteAutomationDb],
  ['PostgreSQL', postgresAutomationDb],
])('runner.createGroup on %s', (_name, open) => {
  let database: AutomationDb;
  let storage: SqlAutomationStorage;
  let runner: AutomationRunner;
  beforeAll(async () => {
    database = await open();
    await database.sql('CREATE TABLE start_keys (key text PRIMARY KEY, instance_id text NOT NULL)');
    storage = await database.storage();
    runner = createAutomationRunner({ storage, automations: [keyed] });
  });
  afterAll(async () => {
    await storage?.close();
    await database?.close();
  });
  beforeEach(() => database.reset(['start_keys']));

  const stored = async () => (await database.sql<{ key: string }>("SELECT state::jsonb->'data'->>'key' AS key FROM wayflow_automation_instances ORDER BY 1")).map((r) => r.key);
  const keys = async () => (await database.sql<{ key: string }>('SELECT key FROM start_keys ORDER BY key')).map((r) => r.key);

  it('starts the group in one transaction, each key recorded before its first node runs', async () => {
    const transactions = vi.spyOn(storage, 'transaction');
    const outcomes = await runner.createGroup(['a', 'b', 'c'].map((key) => start(key)));
    expect(transactions).toHaveBeenCalledTimes(1);
    transactions.mockRestore();
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    for (const outcome of outcomes) {
      const record = (outcome as PromiseFulfilledResult<Awaited<ReturnType<AutomationRunner['create']>>>).value;
      expect(record.data.keySeen).toBe(1);
      expect(record.paths.map((p) => [p.node, p.status])).toEqual([['review', 'form']]);
      expect((await runner.get(record.id)).data).toEqual(record.data);
    }
    expect(await stored()).toEqual(['a', 'b', 'c']);
  });

  it.each([
    ['throws', 'throw'],
    ['has a statement the database refuses', 'sql'],
  ] as const)('fails a start that %s alone: its neighbours in the group commit, and none of its writes does', async (_what, fail) => {
    const outcomes = await runner.createGroup([start('a'), start('b', fail), start('c')]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const reason = (outcomes[1] as PromiseRejectedResult).reason as Error;
    if (fail === 'throw') expect(reason).toBeInstanceOf(RefusedStart);
    else expect(reason.message).toMatch(/division by zero/);
    expect(await stored()).toEqual(['a', 'c']);
    expect(await keys()).toEqual(['a', 'c']);
    for (const outcome of [outcomes[0], outcomes[2]]) {
      const record = (outcome as PromiseFulfilledResult<Awaited<ReturnType<AutomationRunner['create']>>>).value;
      expect(record.data.keySeen).toBe(1);
    }
  });

  it('leaves a start out of its group when failsAlone says its error wrote nothing: the others commit without running again', async () => {
    const transactions = vi.spyOn(storage, 'transaction');
    const failsAlone = (error: unknown) => error instanceof RefusedStart;
    const outcomes = await runner.createGroup([start('a'), start('b', 'leave'), start('c')], { failsAlone });
    expect(transactions).toHaveBeenCalledTimes(1);
    transactions.mockRestore();
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(RefusedStart);
    expect(await stored()).toEqual(['a', 'c']);
    // A group that fails all the same runs every start again alone, the one left out too.
    await database.reset(['start_keys']);
    const again = await runner.createGroup([start('a'), start('b', 'leave'), start('c', 'sql')], { failsAlone });
    expect(again.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    expect((again[1] as PromiseRejectedResult).reason).toBeInstanceOf(RefusedStart);
    expect(await stored()).toEqual(['a']);
  });

  it('runs the starts of a refused commit again alone when runAgain says so, else fails them all (the outcome of a failed commit may be unknown)', async () => {
    // PostgreSQL cannot store \u0000 in text: the group's last write, sent with its COMMIT, is refused.
    const unstorable = (): GroupStart => ({ ...start('b'), data: { key: 'b', note: 'nul \u0000 here' } });
    const refused = await runner.createGroup([start('a'), unstorable(), start('c')], { runAgain: () => true });
    expect(refused.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await stored()).toEqual(['a', 'c']);
    await database.reset(['start_keys']);
    const unknown = await runner.createGroup([start('a'), unstorable(), start('c')]);
    expect(unknown.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(await stored()).toEqual([]);
  });

  it('starts a group of one as create does: one transaction, its error its outcome', async () => {
    const transactions = vi.spyOn(storage, 'transaction');
    const [started] = await runner.createGroup([start('a')]);
    const [refused] = await runner.createGroup([start('b', 'throw')], { runAgain: () => true, failsAlone: () => false });
    expect(transactions).toHaveBeenCalledTimes(2);
    transactions.mockRestore();
    expect(started?.status).toBe('fulfilled');
    expect((started as PromiseFulfilledResult<Awaited<ReturnType<AutomationRunner['create']>>>).value.data.keySeen).toBe(1);
    expect((refused as PromiseRejectedResult).reason).toBeInstanceOf(RefusedStart);
    expect(await stored()).toEqual(['a']);
    expect(await keys()).toEqual(['a']);
  });

  it('answers an unknown automation with its error, beside the starts of the group', async () => {
    const outcomes = await runner.createGroup([start('a'), { automation: 'Nope' }, start('c')]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(((outcomes[1] as PromiseRejectedResult).reason as Error).name).toBe('UnknownAutomationError');
    expect(await stored()).toEqual(['a', 'c']);
  });
});
