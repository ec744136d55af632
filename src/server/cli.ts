#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { PGlite } from '@electric-sql/pglite';
import { WayflowError } from '../core/errors.ts';
import { DEFAULT_IDLE_MS } from '../core/task.ts';
import { loadAutomationModule } from './automations/definitions.ts';
import { AutomationUsageError, automationCli } from './automations/cli.ts';
import { jsonLogger } from './log.ts';
import { outageMonitor } from './outage.ts';
import { openPglite, pgliteStorage } from './pglite.ts';
import { postgresStorage } from './postgres.ts';
import { type RunningServer, serveTasks } from './serve.ts';
import { type ServerAutomations, startServerAutomations } from './server-automations.ts';
import type { TaskStorage } from './storage.ts';

const USAGE = `Usage: wayflow serve [options]
       wayflow step | scheduler | delete-history …   (automations: wayflow step --help)

Serves the wayflow tasks API. Storage is PGlite in --data, or PostgreSQL when
DATABASE_URL is set (e.g. postgres://user@127.0.0.1:5432/wayflow).

Options:
  --port <n>             port to listen on (default 8787, 0 = any free port)
  --host <addr>          interface to listen on (default 127.0.0.1)
  --data <dir>           PGlite data folder (default .wayflow/data)
  --schema <name>        PostgreSQL schema for the tables (default: search_path)
  --static <dir>         also serve the static files in <dir> (e.g. the built demo)
  --automations <module> also run the automations the module exports, with their
                         scheduler, in this process and on this database, and
                         serve them to browsers under /automations (the module's
                         optional "sync" and "authenticate" exports)
  --origin <url>         another origin allowed to write (repeatable)
  --idle-timeout <ms>    idle timeout of tasks (default 1200000 = 20 minutes)
  --body-limit <bytes>   largest request body (default 1048576)
  --write-rate <n>       writes per second per session (default 20; bursts of 3n)
  --sweep-interval <ms>  how often expired tasks are swept (default 60000)
  --log-level <level>    debug | info | warn | error (default info)
`;

/** A command-line argument is missing or malformed. */
export class UsageError extends WayflowError {
  override readonly name: string = 'UsageError';
  constructor(message: string) {
    super('usage', `${message}\n\n${USAGE}`);
  }
}

function positiveNumber(name: string, value: string | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) throw new UsageError(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, not "${value}".`);
  return n;
}

/**
 * Runs `wayflow <args>`: resolves once the server listens (null for `--help`).
 * `write` receives the JSON log lines (default: stdout).
 */
export async function main(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<RunningServer | null> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      schema: { type: 'string' },
      static: { type: 'string' },
      automations: { type: 'string' },
      origin: { type: 'string', multiple: true },
      'idle-timeout': { type: 'string' },
      'body-limit': { type: 'string' },
      'write-rate': { type: 'string' },
      'sweep-interval': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean' },
    },
  }) as { values: Record<string, string | string[] | boolean | undefined>; positionals: string[] };
  if (values.help) {
    write(USAGE);
    return null;
  }
  if (positionals[0] !== 'serve' || positionals.length > 1) throw new UsageError(`Unknown command "${positionals.join(' ')}".`);
  const level = (values['log-level'] as string | undefined) ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError(`--log-level must be debug, info, warn or error, not "${level}".`);
  const logger = jsonLogger({ level: level as 'info', write });
  const writeRate = positiveNumber('write-rate', values['write-rate'] as string | undefined, 20);
  // Every argument is checked before the database is opened.
  const settings = {
    logger,
    port: positiveNumber('port', values.port as string | undefined, 8787, true),
    hostname: (values.host as string | undefined) ?? '127.0.0.1',
    allowedOrigins: (values.origin as string[] | undefined) ?? [],
    idleTimeoutMs: positiveNumber('idle-timeout', values['idle-timeout'] as string | undefined, DEFAULT_IDLE_MS),
    bodyLimit: positiveNumber('body-limit', values['body-limit'] as string | undefined, 1024 * 1024),
    writeRate: { perSecond: writeRate, burst: writeRate * 3 },
    sweepIntervalMs: positiveNumber('sweep-interval', values['sweep-interval'] as string | undefined, 60_000),
    ...(values.static ? { staticDir: values.static as string } : {}),
  };
  const databaseUrl = env.DATABASE_URL;
  const dataDir = (values.data as string | undefined) ?? '.wayflow/data';
  const module = typeof values.automations === 'string' ? await loadAutomationModule(values.automations) : null;
  let pg: PGlite | null = null;
  if (!databaseUrl && module) {
    try {
      pg = await openPglite(dataDir);
    } catch (cause) {
      throw new UsageError(`Cannot open the PGlite database in "${dataDir}" (${cause instanceof Error ? cause.message : String(cause)}): is another process using that folder?`);
    }
  }
  // One line when the database goes away and one when it is back, for the whole process.
  const outage = outageMonitor(logger);
  const storage: TaskStorage = databaseUrl
    ? await postgresStorage({ connectionString: databaseUrl, outage, ...(values.schema ? { schema: values.schema as string } : {}) })
    : await pgliteStorage(pg ? { db: pg } : { dataDir });
  let automations: ServerAutomations | null = null;
  let server: RunningServer;
  try {
    if (module) {
      automations = await startServerAutomations({
        definitions: module.automations,
        flows: module.flows,
        triggers: module.triggers,
        logger,
        outage,
        database: pg ? { kind: 'pglite', pg } : { kind: 'postgresql', connectionString: databaseUrl!, ...(values.schema ? { schema: values.schema as string } : {}) },
      });
    }
    server = await serveTasks({
      storage,
      ...settings,
      ...(module?.authenticate ? { authenticate: module.authenticate } : {}),
      ...(automations ? { automations: { running: automations, ...(module?.sync ? { sync: module.sync } : {}) } } : {}),
    });
  } catch (cause) {
    await automations?.stop();
    await storage.close();
    if (cause instanceof WayflowError) throw cause;
    throw new UsageError(`Cannot listen on ${settings.hostname}:${settings.port}: ${cause instanceof Error ? cause.message : String(cause)}.`);
  }
  if (automations) {
    const running = automations;
    const close = server.close;
    server = { ...server, automations: running, close: async () => {
      await running.stop();
      await close();
    } };
  }
  // Always announced, whatever the log level: scripts wait for this line to know the URL.
  jsonLogger({ write })({
    level: 'info',
    msg: 'wayflow serve started',
    url: server.url,
    storage: databaseUrl ? 'postgresql' : 'pglite',
    automations: module?.automations.map((d) => d.name) ?? [],
    flows: module?.flows.map((f) => f.name) ?? [],
    pid: process.pid,
  });
  return server;
}

/**
 * Runs the `wayflow` program: `serve` (see `main`), or the automation commands
 * `step`, `scheduler` and `delete-history`. Resolves to what is left running, if anything.
 */
export async function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<RunningServer | Awaited<ReturnType<typeof automationCli>>> {
  if (['step', 'scheduler', 'delete-history'].includes(args[0] ?? '')) return automationCli(args, { env, write });
  return main(args, env, write);
}

/** True when this module is the program node was started with (directly, or through an npm bin link). */
function isMainModule(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isMainModule()) {
  runCli(process.argv.slice(2)).then(
    (result) => {
      const stop = result && 'close' in result ? () => result.close() : result && 'stop' in result ? () => result.stop() : null;
      if (!stop) return;
      const shutdown = () => {
        stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof WayflowError ? error.message : `wayflow: ${error instanceof Error ? error.message : String(error)}`}\n`);
      process.exit(error instanceof UsageError || error instanceof AutomationUsageError ? 2 : 1);
    },
  );
}
