import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderInUseError, lockFolder } from '../../src/server/folder-lock.ts';
import { openPglite, pgliteStorage } from '../../src/server/pglite.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wayflow-lock-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The pid of a process that has exited (the OS reuses pids only after many others). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

const writeHolder = (folder: string, pid: number, host = hostname()) => writeFile(join(folder, 'wayflow.lock'), JSON.stringify({ pid, host, since: Date.now() - 60_000 }));
const exists = (path: string) => stat(path).then(() => true, () => false);

describe('one process per PGlite data folder', () => {
  it('refuses a second open of a folder that is open, and opens it again once closed', async () => {
    const data = join(dir, 'twice');
    const storage = await pgliteStorage({ dataDir: data });
    try {
      await expect(openPglite(data)).rejects.toBeInstanceOf(FolderInUseError);
      await expect(pgliteStorage({ dataDir: data })).rejects.toMatchObject({ code: 'folder-in-use', message: expect.stringContaining('this very process') });
      expect(JSON.parse(await readFile(join(data, 'wayflow.lock'), 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    } finally {
      await storage.close();
    }
    expect(await exists(join(data, 'wayflow.lock'))).toBe(false);
    const again = await pgliteStorage({ dataDir: data });
    await again.close();
  }, 60_000);

  it('refuses a folder another live process holds, naming it and saying what to do', async () => {
    const data = join(dir, 'held');
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      await mkdir(data);
      await writeHolder(data, other.pid!);
      const refused = await lockFolder(data).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(FolderInUseError);
      expect((refused as Error).message).toMatch(new RegExp(`in use by process ${other.pid}, running since .*Stop that process, or give this one another folder \\(--data\\)`));
      await expect(openPglite(data)).rejects.toMatchObject({ code: 'folder-in-use' });
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('refuses a live holder whose lock file holds a damaged start time, still naming the holder', async () => {
    const data = join(dir, 'damaged-time');
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      await mkdir(data);
      await writeFile(join(data, 'wayflow.lock'), JSON.stringify({ pid: other.pid, host: hostname(), since: 1e300 }));
      const refused = await lockFolder(data).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(FolderInUseError);
      expect((refused as Error).message).toMatch(`in use by process ${other.pid}, running since an unknown time (1e+300)`);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('takes over the lock of a process that died, and releases its own on close', async () => {
    const data = join(dir, 'stale');
    await mkdir(data);
    await writeHolder(data, await deadPid());
    const lock = await lockFolder(data);
    expect(JSON.parse(await readFile(lock.file, 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
    expect(await exists(lock.file)).toBe(false);
  });

  it('lets exactly one of several racing takers take over a stale lock', async () => {
    const data = join(dir, 'race');
    await mkdir(data);
    await writeHolder(data, await deadPid());
    // Each attempt plays another process: the winner's lock names this pid, so the others see "this very process".
    const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => lockFolder(data)));
    const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const outcome of outcomes) if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(FolderInUseError);
    await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof lockFolder>>>).value.release();
  });

  it('refuses a lock written on another host: it cannot tell whether that process runs', async () => {
    const data = join(dir, 'shared-disk');
    await mkdir(data);
    await writeHolder(data, 1234, 'elsewhere.example');
    await expect(lockFolder(data)).rejects.toMatchObject({ message: expect.stringMatching(/on host "elsewhere\.example".*delete .*wayflow\.lock/) });
  });
});
