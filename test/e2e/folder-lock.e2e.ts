import type { ChildProcess } from 'node:child_process';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/core/store.ts';
import { makeRecord } from '../persist/contract.ts';
import { bundleCli, serveProcess, started } from './fixtures/cli.ts';

let work: string;
let cli: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  ({ work, cli } = await bundleCli('wayflow-lock-'));
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  if (work) await rm(work, { recursive: true, force: true });
});

const serve = (data: string) => serveProcess(cli, ['--port', '0', '--data', data, '--log-level', 'warn'], children);

describe('two wayflow serve processes on one PGlite data folder', () => {
  it('refuses the second with a message naming the first; after the first is killed, the next takes the folder over with every write', async () => {
    const data = join(work, 'data');
    const first = started(await serve(data));
    const record: TaskRecord = makeRecord({ lastActiveAt: Date.now(), expiresAt: Date.now() + 3_600_000 });
    const created = await fetch(`${first.url}/tasks/${record.id}`, {
      method: 'PUT',
      headers: { origin: first.url, 'content-type': 'application/json', 'wayflow-binder': record.binder, 'if-match': '0' },
      body: JSON.stringify(record),
    });
    expect(created.status).toBe(201);
    const cookie = created.headers.get('set-cookie')!.split(';')[0]!;

    const second = await serve(data);
    expect(second).toMatchObject({ code: 1, stderr: expect.stringContaining(`is in use by process ${first.child.pid}`) });
    // The first one is unharmed and still answers.
    expect((await fetch(`${first.url}/tasks/${record.id}`, { headers: { cookie, 'wayflow-binder': record.binder } })).status).toBe(200);

    const exited = new Promise((done) => first.child.once('exit', done));
    first.child.kill('SIGKILL');
    await exited;
    const third = started(await serve(data));
    const read = await fetch(`${third.url}/tasks/${record.id}`, { headers: { cookie, 'wayflow-binder': record.binder } });
    expect(read.status).toBe(200);
    expect(((await read.json()) as { task: TaskRecord }).task).toEqual(record);

    const stopped = new Promise((done) => third.child.once('exit', done));
    third.child.kill('SIGTERM');
    await stopped;
    await expect(stat(join(data, 'wayflow.lock'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
