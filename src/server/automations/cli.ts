import { parseArgs } from 'node:util';
import { createAutomationRunner, systemClock } from '../../automations/index.ts';
import { WayflowError } from '../../core/index.ts';
import { jsonLogger, type Logger, type LogLevel } from '../log.ts';
import { type OutageMonitor, outageMonitor } from '../outage.ts';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_QUERY_TIMEOUT_MS } from '../postgres.ts';
import { openAutomationDatabase } from './database.ts';
import { loadAutomationModule } from './definitions.ts';
import { sqlAutomationStorage } from './pg-storage.ts';
import { openAutomationRuntime, startRuntimeScheduler } from './runtime.ts';
import type { SchedulerStats } from './scheduler.ts';

const USAGE = `Usage: wayflow step --automations <module> [options]
       wayflow scheduler --automations <module> [options]
       wayflow delete-history [--days <n>] [options]

  step            advances every runnable automation instance once (a scheduler pass) and
                  continues every runnable flowcontrol run once, then exits
  scheduler       runs until SIGINT/SIGTERM, advancing instances when they fall due and
                  continuing flow runs (suspended ones when their time comes);
                  on PostgreSQL several scheduler processes share the work, and a
                  database outage is waited out (one log line when it begins, one
                  when it ends)
  delete-history  deletes instances finished more than <n> days ago (default 30) with their history

Storage: PostgreSQL when DATABASE_URL is set (e.g. postgres://user@127.0.0.1:5432/wayflow),
else PGlite in --data (one process per data folder: run the scheduler there, or in the server).

Options:
  --automations <module>  JavaScript module exporting the automation definitions and/or
                          flowcontrol flows (step, scheduler)
  --days <n>              delete-history: age in days of finished instances to delete (default 30)
  --data <dir>            PGlite data folder (default .wayflow/data)
  --schema <name>         PostgreSQL schema for the tables (default: search_path)
  --claim-timeout <ms>    how long a claim on a due instance or flow run lasts (default 10000)
  --batch <n>             scheduler: instances and flow runs claimed together per pass (default 100)
  --max-sleep <ms>        scheduler: longest sleep between looks at the database (default 5000)
  --refresh-due-times     step, scheduler: first recompute stored due times (after changing definitions)
  --db-connect-timeout <ms>  step, scheduler: PostgreSQL, most to wait for a connection (default 5000)
  --db-query-timeout <ms>  step, scheduler: PostgreSQL, most a statement waits for its answer,
                          yours in automationTransaction() included (default 30000)
  --log-level <level>     debug | info | warn | error (default info)
`;

/** A command-line argument of an automation command is missing or malformed. */
export class AutomationUsageError extends WayflowError {
  override readonly name: string = 'AutomationUsageError';
  constructor(message: string) {
    super('usage', `${message}\n\n${USAGE}`);
  }
}

/** Where a command reads its environment and writes its JSON log lines. */
export interface AutomationCommandIo {
  /** Default `process.env` (for `DATABASE_URL`). */
  env?: NodeJS.ProcessEnv;
  /** Directory the `--automations` path is relative to (default `process.cwd()`). */
  cwd?: string;
  /** Receives one JSON log line at a time (default: stdout). */
  write?: (line: string) => void;
}

/** A scheduler started by `schedulerCommand`. */
export interface RunningAutomationScheduler {
  /** Stops after the pass in progress and closes the database. */
  stop(): Promise<void>;
  /** Resolves when the scheduler stopped. */
  readonly done: Promise<void>;
  readonly stats: SchedulerStats;
}

type Values = Record<string, string | boolean | undefined>;

const OPTIONS = {
  automations: { type: 'string' },
  days: { type: 'string' },
  data: { type: 'string' },
  schema: { type: 'string' },
  'claim-timeout': { type: 'string' },
  batch: { type: 'string' },
  'max-sleep': { type: 'string' },
  'refresh-due-times': { type: 'boolean' },
  'db-connect-timeout': { type: 'string' },
  'db-query-timeout': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean' },
} as const;

function parse(command: string, args: readonly string[], allowed: readonly string[]): { values: Values; positionals: string[] } {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (cause) {
    throw new AutomationUsageError(`wayflow ${command}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  for (const name of Object.keys(parsed.values)) {
    if (!allowed.includes(name) && name !== 'help') throw new AutomationUsageError(`wayflow ${command} does not take --${name}.`);
  }
  return parsed;
}

function integer(name: string, value: string | boolean | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isInteger(n) || n < min) throw new AutomationUsageError(`--${name} must be an integer of at least ${min}, not "${String(value)}".`);
  return n;
}

function logger(values: Values, io: AutomationCommandIo): Logger {
  const level = (values['log-level'] as string | undefined) ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new AutomationUsageError(`--log-level must be debug, info, warn or error, not "${level}".`);
  return jsonLogger({ level: level as LogLevel, ...(io.write ? { write: io.write } : {}) });
}

/** Opens the database named by DATABASE_URL / --data / --schema. */
async function openDatabase(values: Values, io: AutomationCommandIo, outage?: OutageMonitor) {
  const env = io.env ?? process.env;
  if (values.schema !== undefined && !env.DATABASE_URL) throw new AutomationUsageError('--schema applies to PostgreSQL only: set DATABASE_URL, or drop --schema to use PGlite.');
  return openAutomationDatabase({
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
    ...(values.data ? { dataDir: values.data as string } : {}),
    ...(values.schema ? { schema: values.schema as string } : {}),
    connectTimeoutMs: integer('db-connect-timeout', values['db-connect-timeout'], DEFAULT_CONNECT_TIMEOUT_MS, 1),
    queryTimeoutMs: integer('db-query-timeout', values['db-query-timeout'], DEFAULT_QUERY_TIMEOUT_MS, 1),
    ...(outage ? { outage } : {}),
  });
}

/** Loads the --automations module, then opens the database with its automations and flows. */
async function runtimeFor(command: string, values: Values, io: AutomationCommandIo, outage?: OutageMonitor) {
  const modulePath = values.automations;
  if (typeof modulePath !== 'string' || modulePath === '') throw new AutomationUsageError(`wayflow ${command} needs --automations <module>.`);
  const claimTimeoutMs = integer('claim-timeout', values['claim-timeout'], 10_000, 1);
  const loaded = await loadAutomationModule(modulePath, io.cwd);
  const database = await openDatabase(values, io, outage);
  const runtime = await openAutomationRuntime({
    db: database.db,
    kind: database.kind,
    automations: loaded.automations,
    flows: loaded.flows,
    triggers: loaded.triggers,
    claimTimeoutMs,
  });
  try {
    if (values['refresh-due-times']) await runtime.automations.runner.refreshDueTimes();
  } catch (error) {
    await runtime.close();
    throw error;
  }
  return { database, runtime, loaded };
}

/** What `wayflow step` did: automation instances moved, messages delivered, flow runs continued and flow actions run. */
export interface StepCommandResult {
  advanced: number;
  delivered: number;
  flowRuns: number;
  flowActions: number;
}

/**
 * `wayflow step --automations <module>`: one scheduler pass (django's `automation_step`):
 * delivers queued messages and advances every due instance, and continues every runnable
 * flowcontrol run once (django-flowcontrol's `continue_flowruns`), then closes the database.
 * Resolves to how many instances moved, messages were delivered, flow runs were continued
 * and flow actions ran.
 */
export async function stepCommand(args: readonly string[], io: AutomationCommandIo = {}): Promise<StepCommandResult> {
  const { values, positionals } = parse('step', args, [
    'automations',
    'data',
    'schema',
    'claim-timeout',
    'refresh-due-times',
    'db-connect-timeout',
    'db-query-timeout',
    'log-level',
  ]);
  if (positionals.length > 0) throw new AutomationUsageError(`wayflow step takes no arguments, got "${positionals.join(' ')}".`);
  const log = logger(values, io);
  const { runtime } = await runtimeFor('step', values, io);
  try {
    // One pass of the one runner: instances and flow runs due now, claimed together, a group per transaction.
    const pass = await runtime.automations.runner.schedulerPass();
    const result: StepCommandResult = { advanced: pass.advanced, delivered: pass.delivered, flowRuns: new Set(pass.runs.map((run) => run.id)).size, flowActions: pass.actions };
    log({ level: 'info', msg: 'wayflow step', ...result });
    return result;
  } finally {
    await runtime.close();
  }
}

/**
 * `wayflow scheduler --automations <module>`: starts the long-running scheduler for the
 * module's automations and flowcontrol flows (on PostgreSQL with a LISTEN connection, so
 * other processes' new due times wake it). Resolves once it runs; call `stop()` on SIGTERM.
 */
export async function schedulerCommand(args: readonly string[], io: AutomationCommandIo = {}): Promise<RunningAutomationScheduler> {
  const { values, positionals } = parse('scheduler', args, [
    'automations',
    'data',
    'schema',
    'claim-timeout',
    'batch',
    'max-sleep',
    'refresh-due-times',
    'db-connect-timeout',
    'db-query-timeout',
    'log-level',
  ]);
  if (positionals.length > 0) throw new AutomationUsageError(`wayflow scheduler takes no arguments, got "${positionals.join(' ')}".`);
  const log = logger(values, io);
  const batchSize = integer('batch', values.batch, 100, 1);
  const maxSleepMs = integer('max-sleep', values['max-sleep'], 5000, 1);
  // One line when the database goes away and one when it is back, whatever fails meanwhile.
  const outage = outageMonitor(log);
  const { database, runtime, loaded } = await runtimeFor('scheduler', values, io, outage);
  let running: Awaited<ReturnType<typeof startRuntimeScheduler>>;
  try {
    running = await startRuntimeScheduler(runtime, {
      batchSize,
      maxSleepMs,
      logger: log,
      outage,
      ...(database.connectionString ? { connectionString: database.connectionString } : {}),
    });
  } catch (error) {
    await runtime.close();
    throw error;
  }
  const { scheduler } = running;
  // Always announced, whatever the log level: scripts wait for this line.
  jsonLogger(io.write ? { write: io.write } : {})({
    level: 'info',
    msg: 'wayflow scheduler started',
    storage: database.kind,
    automations: loaded.automations.map((d) => d.name),
    flows: loaded.flows.map((f) => f.name),
    pid: process.pid,
  });
  let stopped: Promise<void> | null = null;
  return {
    done: scheduler.done,
    stats: scheduler.stats,
    stop() {
      stopped ??= (async () => {
        await running.stop();
        await runtime.close();
        log({ level: 'info', msg: 'wayflow scheduler stopped', ...scheduler.stats });
      })();
      return stopped;
    },
  };
}

/**
 * `wayflow delete-history [--days N]` (or `delete-history N`, django's
 * `automation_delete_history`): deletes instances finished more than N days ago (default 30)
 * with their history. Resolves to the total and the counts per kind.
 */
export async function deleteHistoryCommand(args: readonly string[] = [], io: AutomationCommandIo = {}): Promise<{ deleted: number; automations: number; tasks: number }> {
  const { values, positionals } = parse('delete-history', args, ['days', 'data', 'schema', 'log-level']);
  if (positionals.length > 1 || (positionals.length === 1 && values.days !== undefined)) {
    throw new AutomationUsageError(`wayflow delete-history takes one number of days, got "${[...positionals, values.days ?? ''].join(' ').trim()}".`);
  }
  const raw = values.days ?? positionals[0];
  const days = raw === undefined ? 30 : Number(raw);
  if (!Number.isFinite(days) || days < 0) throw new AutomationUsageError(`--days must be a non-negative number of days, not "${String(raw)}".`);
  const log = logger(values, io);
  const database = await openDatabase(values, io);
  let storage: Awaited<ReturnType<typeof sqlAutomationStorage>>;
  try {
    storage = await sqlAutomationStorage(database.db, { notify: database.kind === 'postgresql' });
  } catch (error) {
    await database.db.close().catch(() => undefined);
    throw error;
  }
  try {
    const result = await createAutomationRunner({ storage, clock: systemClock }).deleteHistory(days);
    log({ level: 'info', msg: 'wayflow delete-history', days, ...result });
    return result;
  } finally {
    await storage.close();
  }
}

/**
 * Runs `wayflow <step | scheduler | delete-history> …` (args start with the command).
 * Resolves to the command's result, or null after printing the usage for `--help`.
 */
export async function automationCli(
  args: readonly string[],
  io: AutomationCommandIo = {},
): Promise<StepCommandResult | RunningAutomationScheduler | { deleted: number; automations: number; tasks: number } | null> {
  const [command, ...rest] = args;
  if (command === undefined || command === '--help' || rest.includes('--help')) {
    (io.write ?? ((line: string) => process.stdout.write(`${line}\n`)))(USAGE);
    return null;
  }
  if (command === 'step') return stepCommand(rest, io);
  if (command === 'scheduler') return schedulerCommand(rest, io);
  if (command === 'delete-history') return deleteHistoryCommand(rest, io);
  throw new AutomationUsageError(`Unknown command "${command}".`);
}
