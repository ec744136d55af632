import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAutomationRunner, FlowControl, systemClock } from '../../../src/automations/index.ts';
import type { SqlAutomationStorage } from '../../../src/server/automations/index.ts';
import { bundleForProcesses } from '../../helpers/process-bundle.ts';
import { type AutomationDb, DATABASE_URL, postgresAutomationDb, FLOW_RUNS } from './db.ts';
import { chain } from './fixtures/chain-automations.ts';
import { relay, relayFlow } from './fixtures/three-models.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
/** Instances (or runs) of each model: ordered nodes (5 work nodes), django-ws (3 nodes), flowcontrol (3 working actions). */
const PER_MODEL = 40;
const TOTAL = PER_MODEL * (5 + 3 + 3);
let database: AutomationDb;
let storage: SqlAutomationStorage;
let work: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  database = await postgresAutomationDb();
  await database.sql('CREATE TABLE effects (key text NOT NULL, node text NOT NULL, pid integer NOT NULL)');
  storage = await database.storage();
  work = await bundleForProcesses('wayflow-automations-', {
    main: join(ROOT, 'src/server/automations/main.ts'),
    models: join(import.meta.dirname, 'fixtures/three-models.ts'),
  });
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await storage?.close();
  await database?.close();
  if (work) await rm(work, { recursive: true, force: true });
});
beforeEach(async () => {
  await database.reset(['effects']);
});

/** Starts `wayflow scheduler` as a real process on the test schema, running the three models' module. */
function startScheduler(effectLog: string): ChildProcess {
  const child = spawn(
    process.execPath,
    [join(work, 'main.mjs'), 'scheduler', '--automations', join(work, 'models.mjs'), '--schema', database.schema!, '--claim-timeout', '1000', '--batch', '5', '--log-level', 'warn'],
    { env: { ...process.env, DATABASE_URL, WAYFLOW_EFFECT_LOG: effectLog }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => done({ code, signal }));
  });

async function count(sql: string): Promise<number> {
  return (await database.sql<{ n: number }>(sql))[0]!.n;
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Creates PER_MODEL instances of `Chain` and `Relay` and PER_MODEL runs of `RelayFlow`, none executed yet. */
async function createWork(): Promise<void> {
  const runner = createAutomationRunner({ storage, clock: systemClock, automations: [chain, relay] });
  const control = new FlowControl({ flows: [relayFlow], store: storage, clock: systemClock });
  for (let i = 0; i < PER_MODEL; i++) {
    await runner.create(chain, { i }, { autorun: false });
    await runner.create(relay, { i }, { autorun: false });
    await control.createRun('RelayFlow');
  }
}

const allFinished = async () =>
  (await count('SELECT count(*)::integer AS n FROM wayflow_automation_instances WHERE finished AND kind = \'automation\'')) === 2 * PER_MODEL &&
  (await count(`SELECT count(*)::integer AS n FROM ${FLOW_RUNS} WHERE status = 'done'`)) === PER_MODEL;

/** Every step of every model committed exactly once, by the given processes; the history of both automation models is complete. */
async function expectExactlyOnce(pids: Set<number | undefined>): Promise<{ key: string; pid: number }[]> {
  const effects = await database.sql<{ key: string; pid: number }>('SELECT key, pid FROM effects');
  expect(effects).toHaveLength(TOTAL);
  expect(new Set(effects.map((row) => row.key)).size).toBe(TOTAL);
  for (const model of ['s', 'ws-', 'flow-']) {
    const nodes = await database.sql<{ n: number }>(`SELECT count(*)::integer AS n FROM effects WHERE node LIKE '${model}%'`);
    expect(nodes[0]!.n).toBe(PER_MODEL * (model === 's' ? 5 : 3));
  }
  expect(new Set(effects.map((row) => row.pid))).toEqual(pids);
  const history = await database.sql<{ status: string; message: string | null; n: number }>(
    'SELECT status, message, count(*)::integer AS n FROM wayflow_automation_history GROUP BY status, message ORDER BY status',
  );
  expect(history).toEqual(['end', 's1', 's2', 's3', 's4', 's5', 'w1', 'w2', 'w3'].map((status) => ({ status, message: 'OK', n: PER_MODEL })));
  const runs = await database.sql<{ body: string }>(`SELECT body FROM ${FLOW_RUNS}`);
  for (const { body } of runs) expect((JSON.parse(body) as { log: { action: string }[] }).log.map((entry) => entry.action)).toEqual(['f1', 'pause', 'f2', 'f3']);
  return effects;
}

describe('a scheduler process killed mid-run', () => {
  it('loses no step and doubles none of any model when it is restarted (SIGKILL, then a new process)', { timeout: 90_000 }, async () => {
    const effectLog = join(work, 'effects-kill.log');
    await createWork();

    const first = startScheduler(effectLog);
    await until(async () => (await count('SELECT count(*)::integer AS n FROM effects')) >= TOTAL / 4, 30_000, 'the first scheduler to get going');
    first.kill('SIGKILL');
    expect((await exited(first)).signal).toBe('SIGKILL');
    expect(await count('SELECT count(*)::integer AS n FROM effects')).toBeLessThan(TOTAL);

    const second = startScheduler(effectLog);
    await until(allFinished, 45_000, 'every instance and run to finish');
    second.kill('SIGTERM');
    expect((await exited(second)).code).toBe(0);

    // Exactly once: the effect written in the step's transaction, and the history.
    const effects = await expectExactlyOnce(new Set([first.pid, second.pid]));
    // At least once: the effect outside the database ran for every step; only the steps of the
    // one transaction the kill interrupted before its commit ran twice, with the same keys: a
    // scheduler pass commits a group of at most --batch (5) instances and runs together.
    const lines = (await readFile(effectLog, 'utf8')).trim().split('\n');
    expect(new Set(lines)).toEqual(new Set(effects.map((row) => row.key)));
    const runs = new Map<string, number>();
    for (const line of lines) runs.set(line, (runs.get(line) ?? 0) + 1);
    const twice = [...runs].filter(([, n]) => n > 1);
    expect(twice.every(([, n]) => n === 2)).toBe(true);
    // A key is `<instance or run>:<step>`.
    expect(new Set(twice.map(([key]) => key.slice(0, key.lastIndexOf(':')))).size).toBeLessThanOrEqual(5);
  });
});

describe('two scheduler processes on one database', () => {
  it('share the steps of all three models and never run one twice', { timeout: 90_000 }, async () => {
    const effectLog = join(work, 'effects-two.log');
    const one = startScheduler(effectLog);
    const two = startScheduler(effectLog);
    await createWork();
    await until(allFinished, 60_000, 'every instance and run to finish');
    one.kill('SIGTERM');
    two.kill('SIGTERM');
    expect((await exited(one)).code).toBe(0);
    expect((await exited(two)).code).toBe(0);

    await expectExactlyOnce(new Set([one.pid, two.pid]));
    // Not only recorded once: nothing outside the database ran twice either.
    const lines = (await readFile(effectLog, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(TOTAL);
  });
});
