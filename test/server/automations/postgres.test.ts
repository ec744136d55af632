import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AutomationRunner, createAutomationRunner, defineAutomation, flow, hours, systemClock } from '../../../src/automations/index.ts';
import {
  type AutomationScheduler,
  automationTransaction,
  listenForDueTimes,
  NoAutomationTransactionError,
  type SqlAutomationStorage,
  sqlTransactionOf,
  startAutomationScheduler,
} from '../../../src/server/automations/index.ts';
import { automationStorageContract, record } from '../../automations/storage-contract.ts';
import { type AutomationDb, DATABASE_URL, postgresAutomationDb } from './db.ts';

// No skip: the global set-up provides a PostgreSQL (found or started); one that does not answer fails this file in beforeAll.
let database: AutomationDb;
const storages: SqlAutomationStorage[] = [];
beforeAll(async () => {
  database = await postgresAutomationDb();
  await database.sql('CREATE TABLE executions (key text NOT NULL, node text NOT NULL, by_scheduler text NOT NULL)');
});
afterAll(async () => {
  await Promise.all(storages.map((s) => s.close().catch(() => undefined)));
  await database?.close();
});
const open = async (options?: Parameters<AutomationDb['storage']>[0]) => {
  const storage = await database.storage(options);
  storages.push(storage);
  return storage;
};

automationStorageContract('SQL on PostgreSQL', async () => {
  await database.reset();
  return open();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await sleep(25);
  }
}

/** Three work nodes with a timer in between; each records its execution in the step's transaction. */
function pipeline(invocations: string[], scheduler: string) {
  const work = (node: string) =>
    flow.execute(async (ctx) => {
      invocations.push(ctx.idempotencyKey);
      await automationTransaction().query('INSERT INTO executions (key, node, by_scheduler) VALUES ($1, $2, $3)', [ctx.idempotencyKey, node, scheduler]);
    });
  return defineAutomation('Pipeline', {
    nodes: { a: work('a'), b: work('b').afterWaitingFor(300), c: work('c'), end: flow.end() },
  });
}

describe('SQL automation storage on PostgreSQL', () => {
  it('lets a claimed due instance be skipped by other schedulers until the claim is released or times out', async () => {
    await database.reset();
    const one = await open({ claimTimeoutMs: 300 });
    const two = await open({ claimTimeoutMs: 300 });
    await one.transaction(async (tx) => {
      await tx.insertInstance(record({ id: 'x', dueAt: 10 }));
      await tx.insertInstance(record({ id: 'y', dueAt: 20 }));
    });
    expect(await one.transaction((tx) => tx.dueInstances(100, 1))).toEqual(['x']);
    expect(await two.transaction((tx) => tx.dueInstances(100, 10))).toEqual(['y']);
    expect(await one.transaction((tx) => tx.dueInstances(100, 10))).toEqual([]);
    // Writing the instance releases the claim.
    await two.transaction(async (tx) => tx.putInstance({ ...(await tx.getInstance('y'))!, dueAt: 30 }));
    expect(await one.transaction((tx) => tx.dueInstances(100, 10))).toEqual(['y']);
    await one.transaction(async (tx) => tx.putInstance({ ...(await tx.getInstance('y'))!, dueAt: 10 ** 15 }));
    // x was claimed and never written (its scheduler died): free again after the claim timeout.
    const wake = await two.nextWakeAt(Date.now());
    expect(wake).toBeGreaterThan(Date.now());
    expect(wake).toBeLessThanOrEqual(Date.now() + 300);
    await sleep(350);
    expect(await two.transaction((tx) => tx.dueInstances(100, 10))).toEqual(['x']);
  });

  it('claims by row lock while the transaction runs, and writes a claim at commit only for the due instances it left as they were', async () => {
    await database.reset();
    const one = await open({ claimTimeoutMs: 400 });
    const two = await open({ claimTimeoutMs: 400 });
    await one.transaction(async (tx) => {
      await tx.insertInstance(record({ id: 'moves', dueAt: 10 }));
      await tx.insertInstance(record({ id: 'stays', dueAt: 20 }));
    });
    const claims = () => database.sql<{ id: string; claimed: boolean; left: number | null }>(
      `SELECT id, claimed_by IS NOT NULL AS claimed, claimed_until - (extract(epoch FROM clock_timestamp()) * 1000) AS left
       FROM wayflow_automation_instances ORDER BY id`,
    );
    let during: { seen: string[]; claims: { id: string; claimed: boolean }[] } | null = null;
    await one.transaction(async (tx) => {
      expect(await tx.dueInstances(100, 10)).toEqual(['moves', 'stays']);
      // Held by this transaction's row locks: another scheduler skips both, and nothing is written yet.
      during = { seen: await two.transaction((other) => other.dueInstances(100, 10)), claims: (await claims()).map(({ id, claimed }) => ({ id, claimed })) };
      await tx.putInstance({ ...(await tx.getInstance('moves'))!, dueAt: 10 ** 15 });
    });
    expect(during).toEqual({ seen: [], claims: [{ id: 'moves', claimed: false }, { id: 'stays', claimed: false }] });
    // The written instance is free (due again by its new time); the other stays claimed for the claim time.
    const [moves, stays] = await claims();
    expect(moves).toEqual({ id: 'moves', claimed: false, left: null });
    expect(stays).toMatchObject({ id: 'stays', claimed: true });
    expect(stays!.left).toBeGreaterThan(0);
    expect(stays!.left).toBeLessThanOrEqual(400);
    expect(await two.transaction((tx) => tx.dueInstances(100, 10))).toEqual([]);
    await sleep(450);
    expect(await two.transaction((tx) => tx.dueInstances(100, 10))).toEqual(['stays']);
  });

  it('lists as due, and delivers messages to, only the automations the process runs', async () => {
    await database.reset();
    const storage = await open();
    const onlyA = await open({ automations: ['A'] });
    await storage.transaction(async (tx) => {
      await tx.insertInstance(record({ id: 'a1', automation: 'A', dueAt: 10 }));
      await tx.insertInstance(record({ id: 'b1', automation: 'B', dueAt: 5 }));
      await tx.enqueueMessage({ id: 'to-b', to: { instanceId: 'b1' }, message: 'm', payload: {}, createdAt: 1 });
      await tx.enqueueMessage({ id: 'to-all-b', to: { automation: 'B' }, message: 'm', payload: {}, createdAt: 2 });
      await tx.enqueueMessage({ id: 'to-a', to: { instanceId: 'a1' }, message: 'm', payload: {}, createdAt: 3 });
      await tx.enqueueMessage({ id: 'to-gone', to: { instanceId: 'gone' }, message: 'm', payload: {}, createdAt: 4 });
    });
    expect((await onlyA.transaction((tx) => tx.pendingMessages(10))).map((m) => m.id)).toEqual(['to-a', 'to-gone']);
    await onlyA.transaction(async (tx) => {
      await tx.deleteMessage('to-a');
      await tx.failMessage('to-gone', 'no such instance');
    });
    // What is left is for another process: this one sleeps until its own next due time.
    expect(await onlyA.nextWakeAt(50)).toBe(10);
    expect(await onlyA.transaction((tx) => tx.dueInstances(100, 10))).toEqual(['a1']);
    expect((await storage.transaction((tx) => tx.pendingMessages(10))).map((m) => m.id)).toEqual(['to-b', 'to-all-b']);
    expect(await storage.nextWakeAt(50)).toBe(50);
  });

  it('refuses to write an instance whose version changed since it was read, and rolls the step back', async () => {
    await database.reset();
    const storage = await open();
    await storage.transaction((tx) => tx.insertInstance(record({ id: 'v', data: { n: 0 } })));
    await expect(
      storage.transaction(async (tx) => {
        const read = (await tx.getInstance('v'))!;
        // Someone bypassing the row lock (here: the same transaction writing behind the storage's back).
        await sqlTransactionOf(tx).query('UPDATE wayflow_automation_instances SET version = version + 1 WHERE id = $1', ['v']);
        await tx.putInstance({ ...read, data: { n: 1 } });
      }),
    ).rejects.toMatchObject({ code: 'automation-version-conflict' });
    expect((await storage.transaction((tx) => tx.getInstance('v')))!.data).toEqual({ n: 0 });
  });

  it("gives each of two node functions running at once its own step's transaction, also after the other's step committed", async () => {
    await database.reset(['executions']);
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const entered: string[] = [];
    const def = defineAutomation('Overlap', {
      nodes: {
        work: flow.execute(async (ctx) => {
          entered.push(ctx.data.name as string);
          if (ctx.data.name === 'slow') await gate;
          await automationTransaction().query('INSERT INTO executions (key, node, by_scheduler) VALUES ($1, $2, $3)', [ctx.idempotencyKey, ctx.data.name, 'none']);
        }),
        end: flow.end(),
      },
    });
    const runner = createAutomationRunner({ storage: await open(), clock: systemClock, automations: [def] });
    const slow = runner.create(def, { name: 'slow' });
    await until(async () => entered.includes('slow'), 5000, 'the slow node function to start');
    // The fast one runs and commits while the slow one waits: the slow one still reaches its own transaction afterwards.
    const fast = await runner.create(def, { name: 'fast' });
    expect(fast.finished).toBe(true);
    release();
    const done = await slow;
    expect(done.finished).toBe(true);
    const rows = await database.sql<{ key: string; node: string }>('SELECT key, node FROM executions ORDER BY node');
    expect(rows).toEqual([
      { key: `${fast.id}:1`, node: 'fast' },
      { key: `${done.id}:1`, node: 'slow' },
    ]);
    expect(() => automationTransaction()).toThrow(NoAutomationTransactionError);
  });

  it('notifies other processes when a commit sets an earlier due time', async () => {
    await database.reset();
    const storage = await open();
    const heard: number[] = [];
    const listener = await listenForDueTimes({ connectionString: DATABASE_URL, channel: storage.channel, onDue: (dueAt) => heard.push(dueAt) });
    try {
      await storage.transaction((tx) => tx.insertInstance(record({ id: 'n', dueAt: 1234 })));
      // A later due time wakes nobody: the scheduler looks at the earlier one anyway.
      await storage.transaction(async (tx) => tx.putInstance({ ...(await tx.getInstance('n'))!, dueAt: 5000 }));
      await storage.transaction(async (tx) => tx.putInstance({ ...(await tx.getInstance('n'))!, dueAt: 10 }));
      await until(async () => heard.length >= 2, 2000, 'two notifications');
      await sleep(50);
      expect(heard).toEqual([1234, 10]);
    } finally {
      await listener.close();
    }
  });
});

describe('two schedulers on PostgreSQL', () => {
  const schedulers: AutomationScheduler[] = [];
  afterEach(async () => {
    await Promise.all(schedulers.map((s) => s.stop()));
    schedulers.length = 0;
  });

  it('share the work and never run the same step twice', async () => {
    await database.reset(['executions']);
    const invocations: string[] = [];
    const names = ['one', 'two'];
    const runners: AutomationRunner[] = [];
    for (const name of names) {
      const storage = await open({ claimTimeoutMs: 5000, automations: ['Pipeline'] });
      const runner = createAutomationRunner({ storage, clock: systemClock, automations: [pipeline(invocations, name)] });
      runners.push(runner);
      const scheduler = startAutomationScheduler({ runner, storage, batchSize: 10, maxSleepMs: 200 });
      schedulers.push(scheduler);
      // The two schedulers play two processes: each hears the other's commits only through NOTIFY.
      const listener = await listenForDueTimes({ connectionString: DATABASE_URL, channel: storage.channel, onDue: (at) => scheduler.wake(at) });
      schedulers.push({ ...scheduler, stop: () => listener.close() });
    }
    const creator = createAutomationRunner({ storage: await open(), clock: systemClock, automations: [pipeline(invocations, 'creator')] });
    const COUNT = 200;
    for (let i = 0; i < COUNT; i++) await creator.create('Pipeline', { i }, { autorun: false });

    await until(async () => (await database.sql<{ n: number }>('SELECT count(*)::integer AS n FROM wayflow_automation_instances WHERE finished'))[0]!.n === COUNT, 20_000, 'every instance to finish');

    const rows = await database.sql<{ key: string; node: string; by_scheduler: string }>('SELECT key, node, by_scheduler FROM executions');
    expect(rows).toHaveLength(COUNT * 3);
    expect(new Set(rows.map((row) => row.key)).size).toBe(COUNT * 3);
    // Not only recorded once: each node function was called once.
    expect(invocations).toHaveLength(COUNT * 3);
    expect(new Set(invocations).size).toBe(COUNT * 3);
    const perScheduler = Object.fromEntries(names.map((name) => [name, rows.filter((row) => row.by_scheduler === name).length]));
    expect(perScheduler.one).toBeGreaterThan(0);
    expect(perScheduler.two).toBeGreaterThan(0);
    const history = await database.sql<{ status: string; message: string; n: number }>(
      'SELECT status, message, count(*)::integer AS n FROM wayflow_automation_history GROUP BY status, message ORDER BY status',
    );
    expect(history).toEqual(['a', 'b', 'c', 'end'].map((status) => ({ status, message: 'OK', n: COUNT })));
  });

  it('deliver every message of the outbox once, though both look at it', async () => {
    await database.reset();
    const counter = defineAutomation('Counter', {
      unique: true,
      receivers: {
        bump: (ctx) => {
          ctx.data.n = ((ctx.data.n as number | undefined) ?? 0) + 1;
        },
      },
      nodes: { wait: flow.execute().afterWaitingFor(hours(1)), end: flow.end() },
    });
    const sender = defineAutomation('Sender', { nodes: { send: flow.sendMessage((ctx) => ctx.data.counter as string, 'bump'), end: flow.end() } });
    for (let i = 0; i < 2; i++) {
      const storage = await open({ automations: ['Counter', 'Sender'] });
      const runner = createAutomationRunner({ storage, clock: systemClock, automations: [counter, sender] });
      const scheduler = startAutomationScheduler({ runner, storage, batchSize: 5, maxSleepMs: 50 });
      schedulers.push(scheduler);
    }
    const creator = createAutomationRunner({ storage: await open(), clock: systemClock, automations: [counter, sender] });
    const target = await creator.create(counter);
    const COUNT = 60;
    for (let i = 0; i < COUNT; i++) await creator.create(sender, { counter: target.id }, { autorun: false });
    await until(
      async () =>
        (await database.sql<{ n: number }>("SELECT count(*)::integer AS n FROM wayflow_automation_instances WHERE finished AND automation = 'Sender'"))[0]!.n === COUNT &&
        (await database.sql('SELECT id FROM wayflow_automation_messages')).length === 0,
      15_000,
      'every message to be delivered',
    );
    expect((await creator.get(target.id)).data.n).toBe(COUNT);
    expect(await creator.undeliverableMessages()).toEqual([]);
  });

  it('wakes at the due time written by another process, not after a poll interval', async () => {
    await database.reset(['executions']);
    const invocations: string[] = [];
    const storage = await open({ automations: ['Pipeline'] });
    const runner = createAutomationRunner({ storage, clock: systemClock, automations: [pipeline(invocations, 'one')] });
    const scheduler = startAutomationScheduler({ runner, storage, maxSleepMs: 60_000 });
    schedulers.push(scheduler);
    const listener = await listenForDueTimes({ connectionString: DATABASE_URL, channel: storage.channel, onDue: (at) => scheduler.wake(at) });
    schedulers.push({ ...scheduler, stop: () => listener.close() });
    await sleep(100);

    const other = createAutomationRunner({ storage: await open(), clock: systemClock, automations: [pipeline([], 'other')] });
    const created = await other.create('Pipeline');
    const dueAt = created.dueAt!;
    expect(dueAt).toBeGreaterThan(Date.now());
    await until(async () => (await runner.get(created.id)).finished, 5000, 'the instance to finish');
    const [b] = (await runner.history(created.id)).filter((row) => row.status === 'b');
    expect(b!.finished! - dueAt).toBeGreaterThanOrEqual(0);
    // Loose bound for a loaded CI machine; the poll interval here is a minute.
    expect(b!.finished! - dueAt).toBeLessThan(1000);
  });
});
