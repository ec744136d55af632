import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { FlowControl, systemClock } from '../../src/automations/index.ts';
import { sqlAutomationStorage } from '../../src/server/automations/index.ts';
import { main } from '../../src/server/cli.ts';
import { postgresDatabase } from '../../src/server/postgres.ts';
import { syncLinks } from '../../src/server/sync/links.ts';
import { reminder } from './automations/fixtures/reminder-flows.ts';
import { DATABASE_URL, dropSchema, writeTask } from './harness.ts';

const fixture = new URL('./fixtures/timed-automations.ts', import.meta.url).pathname;
const flowFixture = new URL('./automations/fixtures/reminder-flows.ts', import.meta.url).pathname;
const mixedFixture = new URL('./automations/fixtures/mixed-automations.ts', import.meta.url).pathname;

describe('wayflow serve --automations', () => {
  // Opens PGlite in a folder (~4 s on a quiet machine, several times that on a loaded one).
  it('runs the automations and their scheduler beside the tasks API on one PGlite folder', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wayflow-serve-auto-'));
    const lines: string[] = [];
    // A data folder whose parents do not exist yet, as on a fresh clone (`.wayflow/data`).
    const server = (await main(['serve', '--port', '0', '--data', join(dir, 'nested', 'data'), '--automations', fixture, '--log-level', 'error'], {}, (line) => lines.push(line)))!;
    try {
      expect(JSON.parse(lines.at(-1)!)).toMatchObject({ msg: 'wayflow serve started', storage: 'pglite', automations: ['Timed'] });
      const instance = await server.automations!.runner.create('Timed', {});
      expect(instance.data).toEqual({ started: true });
      await writeTask(server.url);
      await vi.waitFor(async () => expect((await server.automations!.runner.get(instance.id)).finished).toBe(true), { timeout: 15_000, interval: 50 });
      expect((await server.automations!.runner.get(instance.id)).data).toEqual({ started: true, done: true });
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('runs them on PostgreSQL with DATABASE_URL', async () => {
    const schema = `wayflow_serve_auto_${process.pid}`;
    const server = (await main(['serve', '--port', '0', '--schema', schema, '--automations', fixture, '--log-level', 'error'], { DATABASE_URL }, () => undefined))!;
    try {
      const instance = await server.automations!.runner.create('Timed', {});
      await writeTask(server.url);
      await vi.waitFor(async () => expect((await server.automations!.runner.get(instance.id)).finished).toBe(true), { timeout: 15_000, interval: 50 });
    } finally {
      await server.close();
      await dropSchema(schema);
    }
  });

  it('forgets idempotency keys past --idempotency-retention at each sweep (PostgreSQL)', async () => {
    const schema = `wayflow_serve_keys_${process.pid}`;
    const lines: string[] = [];
    const args = ['serve', '--port', '0', '--schema', schema, '--automations', fixture, '--sweep-interval', '50', '--idempotency-retention', '1'];
    const server = (await main(args, { DATABASE_URL }, (line) => lines.push(line)))!;
    try {
      const { db } = server.automations!;
      const links = await syncLinks(db);
      const instance = await server.automations!.runner.create('Timed', {});
      await links.recordMessage(db, 'user:a', 'poke-1', { instanceId: instance.id, message: 'poke', result: 1 }, Date.now());
      expect(await links.findMessage('user:a', 'poke-1')).not.toBeNull();
      await vi.waitFor(async () => expect(await links.findMessage('user:a', 'poke-1')).toBeNull(), { timeout: 15_000, interval: 50 });
      expect(lines.map((line) => JSON.parse(line))).toContainEqual(expect.objectContaining({ msg: 'forgot idempotency keys past their retention', messages: 1 }));
    } finally {
      await server.close();
      await dropSchema(schema);
    }
  });

  it('continues the flowcontrol runs of a module that exports a flow, resuming suspended runs on time (PGlite)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wayflow-serve-flows-'));
    const lines: string[] = [];
    const server = (await main(['serve', '--port', '0', '--data', dir, '--automations', flowFixture, '--log-level', 'error'], {}, (line) => lines.push(line)))!;
    try {
      expect(JSON.parse(lines.at(-1)!)).toMatchObject({ msg: 'wayflow serve started', automations: [], flows: ['Reminder'] });
      const control = server.automations!.flowControl!;
      expect(control.listTriggers()).toEqual([{ name: 'user_created', label: 'User created', description: 'A user signed up' }]);
      const [run] = await control.triggerFlows('user_created', { objectId: 'user:1', state: { delayMs: 150 } });
      expect(run).toMatchObject({ status: 'pending', trigger: 'user_created' });
      await writeTask(server.url);
      await vi.waitFor(async () => expect((await control.get(run!.id)).status).toBe('done'), { timeout: 5_000, interval: 20 });
      const { state } = await control.get(run!.id);
      // Resumed by its due time, not by the scheduler's 5 s poll (a loaded machine may be a few hundred ms late).
      expect((state.remindAt as number) - (state.resumeAt as number)).toBeLessThan(2500);
      expect(server.automations!.scheduler.stats).toMatchObject({ flowActions: 3, errors: 0 });
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('runs automations and flows of one module on PostgreSQL, flow runs started by another process included', async () => {
    const schema = `wayflow_serve_flows_${process.pid}`;
    const server = (await main(['serve', '--port', '0', '--schema', schema, '--automations', mixedFixture, '--log-level', 'error'], { DATABASE_URL }, () => undefined))!;
    const other = new pg.Pool({ connectionString: DATABASE_URL, options: `-c search_path=${schema}` });
    try {
      const instance = await server.automations!.runner.create('Quick', {});
      expect(instance.finished).toBe(true);
      // Another process inserts a pending run; its NOTIFY wakes the server's scheduler.
      const control = new FlowControl({ flows: [reminder], store: await sqlAutomationStorage(postgresDatabase(other)), clock: systemClock });
      const run = (await control.createRun('Reminder', { state: { delayMs: 100 } }))!;
      await vi.waitFor(async () => expect((await control.get(run.id)).status).toBe('done'), { timeout: 5_000, interval: 20 });
      expect((await control.get(run.id)).log.map((l) => l.action)).toEqual(['greet', 'pause', 'remind']);
    } finally {
      await other.end();
      await server.close();
      await dropSchema(schema);
    }
  });

  it('explains a module that exports no automation and no flow', async () => {
    const empty = new URL('./harness.ts', import.meta.url).pathname;
    await expect(main(['serve', '--port', '0', '--automations', empty], {}, () => undefined)).rejects.toThrow(/exports no automation definition and no flowcontrol flow/);
  });
});
