#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { PGlite } from '@electric-sql/pglite';
import { WayflowError } from '../core/index.ts';
import { DEFAULT_IDLE_MS } from '../core/shared.ts';
import { loadAutomationModule } from './automations/definitions.ts';
import { automationCli, AutomationUsageError } from './automations/cli.ts';
import { FolderInUseError } from './folder-lock.ts';
import { FunnelUsageError, funnelCli } from './funnel/cli.ts';
import { limitDefaults, type ServerLimits } from './limits.ts';
import { jsonLogger } from './log.ts';
import { outageMonitor } from './outage.ts';
import { openPglite, pgliteStorage } from './pglite.ts';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_QUERY_TIMEOUT_MS, postgresStorage } from './postgres.ts';
import { type RunningServer, serveTasks } from './serve.ts';
import { type ServerAutomations, startServerAutomations } from './server-automations.ts';
import type { TaskStorage } from './storage.ts';
import { DEFAULT_IDEMPOTENCY_RETENTION_MS, DEFAULT_OUTCOME_RETENTION_MS } from './sweeper.ts';
import { MAX_TIMER_MS } from './timers.ts';

const USAGE = `Usage: wayflow serve [options]
       wayflow step | scheduler | delete-history …   (automations: wayflow step --help)
       wayflow funnel <flow> [--since <date|duration>]   (wayflow funnel --help)

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
  --origin <url>         another origin whose pages may use the API with the
                         session cookie: writes and CORS (repeatable)
  --allowed-host <name>  a host name the server answers: exact, .example.com for
                         a domain and its subdomains, * for any (repeatable;
                         default on loopback: localhost, .localhost, 127.0.0.1,
                         [::1]; else any)
  --trust-proxy <hops>   proxies in front of the server whose X-Forwarded-For,
                         -Proto and -Host are believed (default 0)
  --idle-timeout <ms>    idle timeout of tasks (default 1200000 = 20 minutes;
                         at most 31536000000 = 365 days)
  --sweep-interval <ms>  how often expired tasks are swept (default 60000; at
                         most 2147483647 = 24.8 days)
  --idempotency-retention <ms>  with --automations: how long an Idempotency-Key
                         is remembered (default 604800000 = 7 days; the start
                         key of an unfinished instance is kept until it ends)
  --outcome-retention <ms>  how long the outcome of a deleted task is kept for
                         funnels (default 34560000000 = 400 days)
  --db-connect-timeout <ms>  PostgreSQL: most to wait for a connection before
                         answering 503 (default 5000)
  --db-query-timeout <ms>  PostgreSQL: most to wait for a statement's answer
                         before answering 503 (default 30000)
  --log-level <level>    debug | info | warn | error (default info)

Limits (each refused with 429 and Retry-After, or 400/413 for bodies):
  --body-limit <bytes>   largest request body (default 1048576)
  --json-depth <n>       deepest nesting in a JSON body (default 64)
  --client-rate <n>      requests per second per client address (default 100;
                         bursts of 3n)
  --session-rate <n>     new sessions per minute per client address (default 60;
                         bursts of n)
  --read-rate <n>        reads per second per session or user (default 50;
                         bursts of 3n)
  --write-rate <n>       writes per second per session or user (default 20;
                         bursts of 3n)
  --max-tasks <n>        live tasks per session or user (default 1000)
  --max-instances <n>    unfinished automation instances started from browsers
                         per session or user (default 100)
  --max-streams <n>      open event streams in total (default 1000)
  --max-streams-per-client <n>   ... per client address (default 32)
  --max-streams-per-session <n>  ... per session or user (default 4)
`;

/** A command-line argument is missing or malformed. */
export class UsageError extends WayflowError {
  override readonly name: string = 'UsageError';
  constructor(message: string) {
    super('usage', `${message}\n\n${USAGE}`);
  }
}

/** The longest idle timeout `--idle-timeout` accepts: 365 days. */
const MAX_IDLE_TIMEOUT_MS = 365 * 24 * 3600 * 1000;

/** An integer option within [min, max] (default max: `Number.MAX_SAFE_INTEGER`), or a usage error saying the range. */
function integerOption(name: string, value: string | undefined, fallback: number, range: { min: number; max?: number; note?: string }): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (!/^\s*\d/.test(value) || !Number.isInteger(n) || n < range.min || n > max) {
    const what = range.max === undefined ? `${range.min === 0 ? 'a non-negative' : 'a positive'} integer` : `an integer from ${range.min} to ${max}${range.note ? ` (${range.note})` : ''}`;
    throw new UsageError(`--${name} must be ${what}, not "${value}".`);
  }
  return n;
}

/** `parseArgs`, with its complaints (unknown option, missing value, `--n -1`) turned into usage errors. */
function parsedArgs(config: ParseArgsConfig): { values: Record<string, string | string[] | boolean | undefined>; positionals: string[] } {
  try {
    return parseArgs(config) as { values: Record<string, string | string[] | boolean | undefined>; positionals: string[] };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
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
  const { values, positionals } = parsedArgs({
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
      'allowed-host': { type: 'string', multiple: true },
      'trust-proxy': { type: 'string' },
      'idle-timeout': { type: 'string' },
      'sweep-interval': { type: 'string' },
      'idempotency-retention': { type: 'string' },
      'outcome-retention': { type: 'string' },
      'db-connect-timeout': { type: 'string' },
      'db-query-timeout': { type: 'string' },
      'body-limit': { type: 'string' },
      'json-depth': { type: 'string' },
      'client-rate': { type: 'string' },
      'session-rate': { type: 'string' },
      'read-rate': { type: 'string' },
      'write-rate': { type: 'string' },
      'max-tasks': { type: 'string' },
      'max-instances': { type: 'string' },
      'max-streams': { type: 'string' },
      'max-streams-per-client': { type: 'string' },
      'max-streams-per-session': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    write(USAGE);
    return null;
  }
  if (positionals[0] !== 'serve' || positionals.length > 1) throw new UsageError(`Unknown command "${positionals.join(' ')}".`);
  const level = (values['log-level'] as string | undefined) ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError(`--log-level must be debug, info, warn or error, not "${level}".`);
  const logger = jsonLogger({ level: level as 'info', write });
  // Every argument is checked before the database is opened.
  const int = (name: string, fallback: number, range: { min: number; max?: number; note?: string } = { min: 1 }) =>
    integerOption(name, values[name] as string | undefined, fallback, range);
  const perSecond = (name: string, fallback: { perSecond: number }) => {
    const n = int(name, fallback.perSecond);
    return { perSecond: n, burst: n * 3 };
  };
  const sessionsPerMinute = int('session-rate', limitDefaults.sessionRate.burst);
  const limits: ServerLimits = {
    bodyBytes: int('body-limit', limitDefaults.bodyBytes),
    jsonDepth: int('json-depth', limitDefaults.jsonDepth, { min: 1, max: 1000 }),
    clientRate: perSecond('client-rate', limitDefaults.clientRate),
    sessionRate: { perSecond: sessionsPerMinute / 60, burst: sessionsPerMinute },
    readRate: perSecond('read-rate', limitDefaults.readRate),
    writeRate: perSecond('write-rate', limitDefaults.writeRate),
    tasksPerCaller: int('max-tasks', limitDefaults.tasksPerCaller),
    instancesPerCaller: int('max-instances', limitDefaults.instancesPerCaller),
    streams: int('max-streams', limitDefaults.streams),
    streamsPerClient: int('max-streams-per-client', limitDefaults.streamsPerClient),
    streamsPerCaller: int('max-streams-per-session', limitDefaults.streamsPerCaller),
  };
  const allowedHosts = values['allowed-host'] as string[] | undefined;
  const settings = {
    logger,
    port: int('port', 8787, { min: 0, max: 65535 }),
    hostname: (values.host as string | undefined) ?? '127.0.0.1',
    allowedOrigins: (values.origin as string[] | undefined) ?? [],
    ...(allowedHosts ? { allowedHosts } : {}),
    trustProxy: int('trust-proxy', 0, { min: 0, max: 10 }),
    idleTimeoutMs: int('idle-timeout', DEFAULT_IDLE_MS, { min: 1, max: MAX_IDLE_TIMEOUT_MS, note: '365 days' }),
    sweepIntervalMs: int('sweep-interval', 60_000, { min: 1, max: MAX_TIMER_MS, note: '24.8 days' }),
    idempotencyRetentionMs: int('idempotency-retention', DEFAULT_IDEMPOTENCY_RETENTION_MS, { min: 1, max: MAX_IDLE_TIMEOUT_MS, note: '365 days' }),
    outcomeRetentionMs: int('outcome-retention', DEFAULT_OUTCOME_RETENTION_MS, { min: 1, max: 10 * MAX_IDLE_TIMEOUT_MS, note: '3650 days' }),
    limits,
    ...(values.static ? { staticDir: values.static as string } : {}),
  };
  const timeouts = {
    connectTimeoutMs: int('db-connect-timeout', DEFAULT_CONNECT_TIMEOUT_MS, { min: 1, max: MAX_TIMER_MS, note: '24.8 days' }),
    queryTimeoutMs: int('db-query-timeout', DEFAULT_QUERY_TIMEOUT_MS, { min: 1, max: MAX_TIMER_MS, note: '24.8 days' }),
  };
  const databaseUrl = env.DATABASE_URL;
  const dataDir = (values.data as string | undefined) ?? '.wayflow/data';
  const module = typeof values.automations === 'string' ? await loadAutomationModule(values.automations) : null;
  let pg: PGlite | null = null;
  if (!databaseUrl && module) {
    try {
      pg = await openPglite(dataDir);
    } catch (cause) {
      if (cause instanceof FolderInUseError) throw cause;
      throw new UsageError(`Cannot open the PGlite database in "${dataDir}": ${cause instanceof Error ? cause.message : String(cause)}.`);
    }
  }
  // One line when the database goes away and one when it is back, for the whole process.
  const outage = outageMonitor(logger);
  const storage: TaskStorage = databaseUrl
    ? await postgresStorage({ connectionString: databaseUrl, outage, ...timeouts, ...(values.schema ? { schema: values.schema as string } : {}) })
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
        database: pg ? { kind: 'pglite', pg } : { kind: 'postgresql', connectionString: databaseUrl!, ...timeouts, ...(values.schema ? { schema: values.schema as string } : {}) },
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
 * Runs the `wayflow` program: `serve` (see `main`), the automation commands
 * `step`, `scheduler` and `delete-history`, or `funnel` (see `funnelCli`). Resolves to what is left running, if anything.
 */
export async function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<RunningServer | Awaited<ReturnType<typeof automationCli>>> {
  if (['step', 'scheduler', 'delete-history'].includes(args[0] ?? '')) return automationCli(args, { env, write });
  if (args[0] === 'funnel') return funnelCli(args.slice(1), { env, write });
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

/** Runs the `wayflow` program with the process's arguments: stops on SIGINT/SIGTERM, exits 2 on a usage error, 1 on another. */
export function runProgram(): void {
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
      process.exit(error instanceof UsageError || error instanceof AutomationUsageError || error instanceof FunnelUsageError ? 2 : 1);
    },
  );
}

if (isMainModule()) runProgram();
