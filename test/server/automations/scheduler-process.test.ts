import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAutomationRunner, systemClock } from '../../../src/automations/index.ts';
import type { SqlAutomationStorage } from '../../../src/server/automations/index.ts';
import { bundleForProcesses } from '../../helpers/process-bundle.ts';
import { type AutomationDb, DATABASE_URL, postgresAutomationDb } from './db.ts';
import { chain } from './fixtures/chain-automations.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const INSTANCES = 120;
const WORK_NODES = 5;
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
    chain: join(import.meta.dirname, 'fixtures/chain-automations.ts'),
  });
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await storage?.close();
  await database?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Starts `wayflow scheduler` as a real process on the test schema. */
function startScheduler(effectLog: string): ChildProcess {
  const child = spawn(
    process.execPath,
    [join(work, 'main.mjs'), 'scheduler', '--automations', join(work, 'chain.mjs'), '--schema', database.schema!, '--claim-timeout', '1000', '--batch', '5', '--log-level', 'warn'],
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

describe('a scheduler process killed mid-run', () => {
  it('loses no step and doubles none when it is restarted (SIGKILL, then a new process)', async () => {
    const effectLog = join(work, 'effects.log');
    const runner = createAutomationRunner({ storage, clock: systemClock, automations: [chain] });
    for (let i = 0; i < INSTANCES; i++) await runner.create(chain, { i }, { autorun: false });
    const total = INSTANCES * WORK_NODES;

    const first = startScheduler(effectLog);
    await until(async () => (await count('SELECT count(*)::integer AS n FROM effects')) >= total / 4, 15_000, 'the first scheduler to get going');
    first.kill('SIGKILL');
    expect((await exited(first)).signal).toBe('SIGKILL');
    const beforeRestart = await count('SELECT count(*)::integer AS n FROM effects');
    expect(beforeRestart).toBeLessThan(total);

    const second = startScheduler(effectLog);
    await until(async () => (await count('SELECT count(*)::integer AS n FROM wayflow_automation_instances WHERE finished')) === INSTANCES, 20_000, 'every instance to finish');
    second.kill('SIGTERM');
    expect((await exited(second)).code).toBe(0);

    // Exactly once: the effect written in the step's transaction, and the history.
    const effects = await database.sql<{ key: string; pid: number }>('SELECT key, pid FROM effects');
    expect(effects).toHaveLength(total);
    expect(new Set(effects.map((row) => row.key)).size).toBe(total);
    expect(new Set(effects.map((row) => row.pid))).toEqual(new Set([first.pid, second.pid]));
    const history = await database.sql<{ status: string; message: string | null; n: number }>(
      'SELECT status, message, count(*)::integer AS n FROM wayflow_automation_history GROUP BY status, message ORDER BY status',
    );
    expect(history).toEqual(['end', 's1', 's2', 's3', 's4', 's5'].map((status) => ({ status, message: 'OK', n: INSTANCES })));

    // At least once: the effect outside the database ran for every step; only a step the
    // kill interrupted before its commit ran twice, with the same idempotency key.
    const lines = (await readFile(effectLog, 'utf8')).trim().split('\n');
    expect(new Set(lines)).toEqual(new Set(effects.map((row) => row.key)));
    expect(lines.length - total).toBeLessThanOrEqual(1);
  });
});
