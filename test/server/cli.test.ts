import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, runCli } from '../../src/server/cli.ts';
import { AutomationUsageError } from '../../src/server/automations/cli.ts';
import { databaseProxy } from '../helpers/db-proxy.ts';
import { DATABASE_URL, dropSchema, readTask, writeTask } from './harness.ts';

// Serving PGlite from a data folder across restarts is covered by test/e2e/server-fault.e2e.ts (a fresh data folder takes seconds).
describe('wayflow serve', () => {
  it('serves PostgreSQL when DATABASE_URL is set, announcing its URL in a JSON line', async () => {
    const schema = `wayflow_cli_${process.pid}`;
    const lines: string[] = [];
    const server = (await main(['serve', '--port', '0', '--schema', schema, '--log-level', 'error'], { DATABASE_URL }, (line) => lines.push(line)))!;
    try {
      expect(JSON.parse(lines.at(-1)!)).toMatchObject({ level: 'info', msg: 'wayflow serve started', url: server.url, storage: 'postgresql' });
      expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ ok: true });
      const cookie = await writeTask(server.url);
      expect((await readTask(server.url, cookie)).status).toBe(200);
    } finally {
      await server.close();
      await dropSchema(schema);
    }
  });

  it('explains bad arguments with the usage', async () => {
    await expect(main(['start'], {}, () => undefined)).rejects.toMatchObject({ code: 'usage', message: expect.stringContaining('Usage: wayflow serve') });
    await expect(main(['serve', '--port', 'eighty'], {}, () => undefined)).rejects.toThrow(/--port must be an integer from 0 to 65535, not "eighty"/);
    await expect(main(['serve', '--log-level', 'loud'], {}, () => undefined)).rejects.toThrow(/--log-level/);
    const help: string[] = [];
    expect(await main(['--help'], {}, (line) => help.push(line))).toBeNull();
    expect(help.join('')).toMatch(/DATABASE_URL/);
  });

  it('gives up on a database that never answers after --db-connect-timeout, naming it', async () => {
    const proxy = await databaseProxy(DATABASE_URL);
    proxy.blackHole();
    try {
      const startedAt = performance.now();
      const args = ['serve', '--port', '0', '--log-level', 'error', '--db-connect-timeout', '300'];
      await expect(main(args, { DATABASE_URL: proxy.url(DATABASE_URL) }, () => undefined)).rejects.toThrow(/Cannot use PostgreSQL at postgres:\/\/127\.0\.0\.1:\d+\/\w+: /);
      expect(performance.now() - startedAt).toBeLessThan(3000);
    } finally {
      await proxy.close();
    }
  });

  it('refuses timers past the 24.8 days a Node timer holds, and limits out of range, before opening the database', async () => {
    // An unreachable database: without the range checks, the error would be about it instead.
    const nowhere = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/nowhere' };
    const refuse = (args: string[], message: RegExp) => expect(main(['serve', ...args], nowhere, () => undefined)).rejects.toMatchObject({ code: 'usage', message });
    await refuse(['--sweep-interval', '2147483648'], /--sweep-interval must be an integer from 1 to 2147483647 \(24\.8 days\), not "2147483648"/);
    await refuse(['--idle-timeout', '31536000001'], /--idle-timeout must be an integer from 1 to 31536000000 \(365 days\)/);
    await refuse(['--trust-proxy', '-1'], /--trust-proxy/);
    await refuse(['--json-depth', '0'], /--json-depth/);
    await refuse(['--max-streams', '1.5'], /--max-streams must be a positive integer/);
    await refuse(['--client-rate', 'fast'], /--client-rate/);
    await refuse(['--db-connect-timeout', '0'], /--db-connect-timeout must be an integer from 1/);
    await refuse(['--db-query-timeout', 'long'], /--db-query-timeout/);
    const help: string[] = [];
    await main(['--help'], {}, (line) => help.push(line));
    for (const flag of ['--trust-proxy', '--allowed-host', '--client-rate', '--session-rate', '--read-rate', '--max-tasks', '--max-instances', '--max-streams', '--json-depth', '--db-connect-timeout', '--db-query-timeout']) {
      expect(help.join('')).toContain(flag);
    }
  });

  it('applies the limits and the proxy setting given as flags', async () => {
    const schema = `wayflow_cli_limits_${process.pid}`;
    const server = (await main(['serve', '--port', '0', '--schema', schema, '--log-level', 'error', '--max-tasks', '1', '--trust-proxy', '1'], { DATABASE_URL }, () => undefined))!;
    try {
      const cookie = await writeTask(server.url);
      const record = { ...JSON.parse(JSON.stringify(await (await readTask(server.url, cookie)).json())).task, id: 'BBBBBBBBBBBBBBBBBBBBBB' };
      const second = await fetch(`${server.url}/tasks/${record.id}`, {
        method: 'PUT',
        headers: { cookie, origin: server.url, 'content-type': 'application/json', 'wayflow-binder': 'binder-a', 'if-match': '0' },
        body: JSON.stringify(record),
      });
      expect(second.status).toBe(429);
      expect(second.headers.get('retry-after')).toMatch(/^\d+$/);
      const proxied = await fetch(`${server.url}/tasks`, { headers: { 'wayflow-binder': 'b', 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9' } });
      expect(proxied.headers.get('set-cookie')).toMatch(/; Secure/);
    } finally {
      await server.close();
      await dropSchema(schema);
    }
  });

  it('names the database it cannot reach, without the password', async () => {
    await expect(main(['serve', '--port', '0'], { DATABASE_URL: 'postgres://user:secret@127.0.0.1:1/nowhere' }, () => undefined)).rejects.toMatchObject({
      code: 'storage',
      message: expect.not.stringContaining('secret'),
    });
  });
});

describe('the wayflow program', () => {
  it('hands step, scheduler and delete-history to the automation commands', async () => {
    const lines: string[] = [];
    expect(await runCli(['step', '--help'], {}, (line) => lines.push(line))).toBeNull();
    expect(lines.join('\n')).toMatch(/wayflow step --automations <module>/);
    await expect(runCli(['step'], {}, () => undefined)).rejects.toBeInstanceOf(AutomationUsageError);
    await expect(runCli(['scheduler'], {}, () => undefined)).rejects.toThrow(/--automations/);
  });

  it('runs serve for everything else, with its own usage errors', async () => {
    await expect(runCli(['launch'], {}, () => undefined)).rejects.toThrow(/Unknown command "launch"/);
  });
});

describe('wayflow serve on PGlite', () => {
  it('creates a data folder whose parents do not exist yet, as on a fresh clone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wayflow-fresh-'));
    const server = (await main(['serve', '--port', '0', '--data', join(dir, '.wayflow', 'data'), '--log-level', 'error'], {}, () => undefined))!;
    try {
      const cookie = await writeTask(server.url);
      expect((await readTask(server.url, cookie)).status).toBe(200);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
