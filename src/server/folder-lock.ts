import { readFileSync, unlinkSync } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { WayflowError } from '../core/index.ts';

/** Who holds a folder lock, as written in the lock file. */
export interface LockHolder {
  pid: number;
  host: string;
  /** When the holder took the lock (epoch ms). */
  since: number;
}

/** The data folder is in use by another live process (or by this one already). */
export class FolderInUseError extends WayflowError {
  override readonly name: string = 'FolderInUseError';
  /** The process that holds the folder. */
  readonly holder: LockHolder;
  constructor(dir: string, lockFile: string, holder: LockHolder, why: 'alive' | 'this-process' | 'other-host') {
    const who =
      why === 'this-process'
        ? 'this very process (it is open already)'
        : `process ${holder.pid}${why === 'other-host' ? ` on host "${holder.host}"` : ''}, running since ${sinceText(holder.since)}`;
    const cure =
      why === 'alive'
        ? `Stop that process, or give this one another folder (--data); if process ${holder.pid} is not a wayflow process, delete ${lockFile}. One PGlite data folder serves one process; to run several, use PostgreSQL (DATABASE_URL).`
        : why === 'this-process'
          ? 'Share the open database instead of opening the folder twice.'
          : `This host cannot tell whether it still runs: stop it, then delete ${lockFile}.`;
    super('folder-in-use', `The PGlite data folder "${dir}" is in use by ${who}. ${cure}`);
    this.holder = holder;
  }
}

/** A held folder lock; `release` deletes the lock file (once), if it is still ours. */
export interface FolderLock {
  readonly file: string;
  release(): Promise<void>;
}

const LOCK_FILE = 'wayflow.lock';
/** Locks held by this process, released on exit when nobody released them before. */
const held = new Map<string, string>();
let exitHookInstalled = false;

function releaseAllOnExit(): void {
  for (const [file, content] of held) {
    try {
      if (readFileSync(file, 'utf8') === content) unlinkSync(file);
    } catch {
      // Already gone.
    }
  }
  held.clear();
}

/** Whether a process with this pid runs on this host (EPERM: it runs, under another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(file: string): Promise<{ holder: LockHolder | null; content: string } | null> {
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const parsed = JSON.parse(content) as Partial<LockHolder>;
    const valid = Number.isInteger(parsed.pid) && typeof parsed.host === 'string' && typeof parsed.since === 'number';
    return { holder: valid ? (parsed as LockHolder) : null, content };
  } catch {
    return { holder: null, content };
  }
}

/** Creates `file` with `content` unless it exists; false when it does. */
async function createExclusive(file: string, content: string): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Removes the lock file `stale` names, unless someone replaced it meanwhile. A side lock
 * (`<lock>.takeover`) makes one process at a time do this, so two processes that both found
 * the same stale lock cannot both take the folder.
 */
async function removeStale(file: string, stale: string, mine: string): Promise<void> {
  const side = `${file}.takeover`;
  if (!(await createExclusive(side, mine))) {
    const other = await readHolder(side);
    // A process died while taking over: clear its side lock; the next attempt takes over.
    if (other?.holder && other.holder.host === hostname() && !isAlive(other.holder.pid)) await unlink(side).catch(() => undefined);
    return;
  }
  try {
    if ((await readHolder(file))?.content === stale) await unlink(file).catch(() => undefined);
  } finally {
    await unlink(side).catch(() => undefined);
  }
}

/**
 * Takes the exclusive lock of a data folder: a `wayflow.lock` file holding this process's
 * pid, host and start time. A lock whose process no longer runs (killed, crashed) is taken
 * over; a live holder, a holder on another host (a shared disk) or this same process already
 * holding it throws `FolderInUseError`. Released by `release()`, or when the process exits.
 * @example
 * const lock = await lockFolder('.wayflow/data');
 * try { ... } finally { await lock.release(); }
 */
export async function lockFolder(dir: string): Promise<FolderLock> {
  const file = join(dir, LOCK_FILE);
  const content = JSON.stringify({ pid: process.pid, host: hostname(), since: Date.now(), token: crypto.randomUUID() });
  for (let attempt = 0; ; attempt++) {
    if (await createExclusive(file, content)) break;
    const found = await readHolder(file);
    if (!found) continue;
    const { holder } = found;
    if (!holder) {
      // Being written by its creator right now, or damaged: give the creator a moment first.
      if (attempt < 20) {
        await sleep(50);
        continue;
      }
      await removeStale(file, found.content, content);
      continue;
    }
    if (holder.host !== hostname()) throw new FolderInUseError(dir, file, holder, 'other-host');
    if (holder.pid === process.pid) throw new FolderInUseError(dir, file, holder, 'this-process');
    if (isAlive(holder.pid)) throw new FolderInUseError(dir, file, holder, 'alive');
    if (attempt > 50) throw new FolderInUseError(dir, file, holder, 'alive');
    await removeStale(file, found.content, content);
    await sleep(attempt < 3 ? 0 : 20);
  }
  held.set(file, content);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', releaseAllOnExit);
  }
  let released: Promise<void> | null = null;
  return {
    file,
    release() {
      released ??= (async () => {
        held.delete(file);
        if ((await readHolder(file))?.content === content) await unlink(file).catch(() => undefined);
      })();
      return released;
    },
  };
}

/** When the holder started, readable even if the lock file held a damaged time. */
function sinceText(since: unknown): string {
  const at = new Date(typeof since === 'number' || typeof since === 'string' ? since : Number.NaN);
  return Number.isNaN(at.getTime()) ? `an unknown time (${String(since)})` : at.toISOString();
}
