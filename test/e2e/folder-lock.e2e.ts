import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/core/store.ts';
import { makeRecord } from '../persist/contract.ts';

const ROOT = resolve(import.meta.dirname, '../..');
let work: string;
let cli: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  // Inside the repository, so the bundle's bare imports resolve to node_modules.
  await mkdir(join(ROOT, 'node_modules/.cache'), { recursive: true });
  work = await mkdtemp(join(ROOT, 'node_modules/.cache/wayflow-lock-'));
  cli = join(work, 'cli.mjs');
  await build({ entryPoints: [join(ROOT, 'src/server/cli.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: cli, logLevel: 'silent' });
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  if (work) await rm(work, { recursive: true, force: true });
});

/** `wayflow serve` as a real process: resolves with its URL once it listens, or with its exit code and stderr if it stops first. */
function serve(data: string): Promise<{ child: ChildProcess; url: string } | { code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--data', data, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => reject(new Error(`server neither started nor stopped: ${stderr}`)), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveStart({ code, stderr });
    });
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (const line of buffered.split('\n').slice(0, -1)) {
        const entry = JSON.parse(line) as { msg: string; url?: string };
        if (entry.msg === 'wayflow serve started') {
          clearTimeout(timer);
          resolveStart({ child, url: entry.url! });
        }
      }
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
    });
  });
}

const started = (outcome: Awaited<ReturnType<typeof serve>>) => {
  if (!('url' in outcome)) throw new Error(`server exited with ${outcome.code}: ${outcome.stderr}`);
  return outcome;
};

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
