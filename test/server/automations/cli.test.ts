import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAutomationRunner, type AutomationRunner, hours, systemClock } from '../../../src/automations/index.ts';
import {
  automationCli,
  deleteHistoryCommand,
  loadAutomations,
  type SqlAutomationStorage,
  schedulerCommand,
  stepCommand,
} from '../../../src/server/automations/index.ts';
import { databaseProxy } from '../../helpers/db-proxy.ts';
import { type AutomationDb, DATABASE_URL, postgresAutomationDb } from './db.ts';
import { chain } from './fixtures/chain-automations.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures/chain-automations.ts');
let database: AutomationDb;
let storage: SqlAutomationStorage;
let runner: AutomationRunner;
let lines: Record<string, unknown>[];
let io: { env: NodeJS.ProcessEnv; write: (line: string) => void };
let schemaArgs: string[];

beforeAll(async () => {
  database = await postgresAutomationDb();
  await database.sql('CREATE TABLE effects (key text NOT NULL, node text NOT NULL, pid integer NOT NULL)');
  storage = await database.storage();
  runner = createAutomationRunner({ storage, clock: systemClock, automations: [chain] });
  schemaArgs = ['--schema', database.schema!];
});
afterAll(async () => {
  await storage?.close();
  await database?.close();
});
beforeEach(async () => {
  await database.reset(['effects']);
  lines = [];
  io = { env: { DATABASE_URL }, write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) };
});

const finished = async () => (await database.sql<{ n: number }>('SELECT count(*)::integer AS n FROM wayflow_automation_instances WHERE finished'))[0]!.n;

describe('wayflow step | scheduler | delete-history', () => {
  it('rejects bad arguments with a usage error before opening the database', async () => {
    const usage = { code: 'usage' };
    await expect(automationCli(['frobnicate'], io)).rejects.toMatchObject({ ...usage, message: expect.stringContaining('Unknown command "frobnicate"') });
    await expect(stepCommand([], io)).rejects.toMatchObject({ ...usage, message: expect.stringContaining('needs --automations <module>') });
    await expect(stepCommand(['--automations', FIXTURE, '--batch', '3'], io)).rejects.toMatchObject({ ...usage, message: expect.stringContaining('does not take --batch') });
    await expect(stepCommand(['--automations', FIXTURE, '--nope'], io)).rejects.toMatchObject({ ...usage, message: expect.stringContaining("Unknown option '--nope'") });
    await expect(schedulerCommand(['--automations', FIXTURE, '--batch', '0'], io)).rejects.toMatchObject({ ...usage, message: expect.stringContaining('--batch must be an integer of at least 1') });
    await expect(deleteHistoryCommand(['--days=-1'], io)).rejects.toMatchObject({ ...usage, message: expect.stringContaining('--days must be a non-negative number') });
    await expect(deleteHistoryCommand(['--days', 'soon'], io)).rejects.toMatchObject({ ...usage, message: expect.stringContaining('not "soon"') });
    await expect(deleteHistoryCommand(['3', '4'], io)).rejects.toMatchObject({ ...usage, message: expect.stringContaining('takes one number of days') });
    await expect(deleteHistoryCommand(['--schema', 'x'], { ...io, env: {} })).rejects.toMatchObject({ ...usage, message: expect.stringContaining('--schema applies to PostgreSQL only') });
    await expect(schedulerCommand(['--automations', FIXTURE, '--db-query-timeout', '0'], io)).rejects.toMatchObject({ ...usage, message: expect.stringContaining('--db-query-timeout must be') });
    await expect(stepCommand(['--automations', FIXTURE, '--claim-timeout', '0'], io)).rejects.toMatchObject({ ...usage, message: expect.stringContaining('--claim-timeout must be') });
    await expect(deleteHistoryCommand(['--log-level', 'loud', ...schemaArgs], io)).rejects.toMatchObject({ ...usage, message: expect.stringContaining('--log-level must be') });
  });

  it('gives up on a database that never answers after --db-connect-timeout', async () => {
    const proxy = await databaseProxy(DATABASE_URL);
    proxy.blackHole();
    try {
      const startedAt = performance.now();
      const silent = { ...io, env: { DATABASE_URL: proxy.url(DATABASE_URL) } };
      await expect(stepCommand(['--automations', FIXTURE, '--db-connect-timeout', '300'], silent)).rejects.toThrow(/Cannot use PostgreSQL at/);
      expect(performance.now() - startedAt).toBeLessThan(3000);
    } finally {
      await proxy.close();
    }
  });

  it('prints the usage for --help', async () => {
    const printed: string[] = [];
    expect(await automationCli(['step', '--help'], { write: (line) => printed.push(line) })).toBeNull();
    expect(printed.join('\n')).toContain('wayflow delete-history [--days <n>]');
  });

  it('loads the definitions a module exports, and names the module when it has none or cannot be imported', async () => {
    expect((await loadAutomations(FIXTURE)).map((d) => d.name)).toEqual(['Chain']);
    await expect(loadAutomations(join(import.meta.dirname, 'db.ts'))).rejects.toMatchObject({
      code: 'automations-module',
      message: expect.stringContaining('it exports no automation definition'),
    });
    await expect(loadAutomations('./missing-automations.js', import.meta.dirname)).rejects.toMatchObject({
      code: 'automations-module',
      message: expect.stringContaining('missing-automations.js'),
    });
  });

  it('step advances every runnable instance once and exits', async () => {
    for (let i = 0; i < 3; i++) await runner.create(chain, { i }, { autorun: false });
    expect(await stepCommand(['--automations', FIXTURE, ...schemaArgs], io)).toEqual({ advanced: 3, delivered: 0, flowRuns: 0, flowActions: 0 });
    // s1 ran; s2 waits 40 ms for its timer.
    expect(await database.sql('SELECT node FROM effects')).toEqual([{ node: 's1' }, { node: 's1' }, { node: 's1' }]);
    expect(lines).toEqual([expect.objectContaining({ level: 'info', msg: 'wayflow step', advanced: 3, delivered: 0 })]);
  });

  it('scheduler runs instances as they fall due until stopped, and delete-history removes old finished ones', async () => {
    for (let i = 0; i < 5; i++) await runner.create(chain, { i }, { autorun: false });
    const scheduler = await schedulerCommand(['--automations', FIXTURE, ...schemaArgs, '--log-level', 'warn'], io);
    try {
      const deadline = Date.now() + 10_000;
      while ((await finished()) < 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      await scheduler.stop();
    }
    expect(await finished()).toBe(5);
    expect(scheduler.stats.advanced).toBeGreaterThanOrEqual(5);
    expect(lines[0]).toMatchObject({ msg: 'wayflow scheduler started', storage: 'postgresql', automations: ['Chain'] });

    expect(await deleteHistoryCommand([...schemaArgs], io)).toEqual({ deleted: 0, automations: 0, tasks: 0 });
    // Pretend they finished two days ago.
    await database.sql('UPDATE wayflow_automation_instances SET finished_at = finished_at - $1', [hours(48)]);
    expect(await deleteHistoryCommand(['3', ...schemaArgs], io)).toEqual({ deleted: 0, automations: 0, tasks: 0 });
    expect(await deleteHistoryCommand(['--days', '1', ...schemaArgs], io)).toEqual({ deleted: 35, automations: 5, tasks: 30 });
    expect(await runner.list()).toEqual([]);
    expect(lines.at(-1)).toMatchObject({ msg: 'wayflow delete-history', days: 1, deleted: 35 });
  });
});
