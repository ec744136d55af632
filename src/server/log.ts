/** How serious a log entry is. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One structured log entry: a level, a short message, and flat fields. Never holds cookies, binders or bodies. */
export interface LogEntry {
  level: LogLevel;
  msg: string;
  [field: string]: unknown;
}

/**
 * Receives log entries; the server calls it once per request and on background events.
 * `enabled(level)`, when present, says whether entries of `level` are kept, so a caller can skip
 * building an entry that would be dropped.
 */
export type Logger = ((entry: LogEntry) => void) & { enabled?: (level: LogLevel) => boolean };

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Lines for stdout not written yet, in order: written together once the current turn of the event loop is done, and on exit. */
let pending = '';
let flushing = false;
let hooked = false;
/** A batch of lines this large is written at once rather than at the end of the turn. */
const BATCH_CHARS = 64 * 1024;

function flush(): void {
  flushing = false;
  if (pending === '') return;
  const lines = pending;
  pending = '';
  process.stdout.write(lines);
}

/** Writes `line` to stdout with the other lines of this turn of the event loop: one write for the requests answered together. */
function stdoutLine(line: string): void {
  pending += `${line}\n`;
  if (pending.length >= BATCH_CHARS) flush();
  else if (!flushing) {
    flushing = true;
    setImmediate(flush);
  }
  if (!hooked) {
    hooked = true;
    process.once('exit', flush);
  }
}

/**
 * A logger writing one JSON object per line (`{"time":…,"level":…,"msg":…}`),
 * dropping entries below `level`. Lines for stdout (the default `write`) are written in batches,
 * at the end of each turn of the event loop and on exit.
 * @example
 * createApp({ storage, logger: jsonLogger({ level: 'warn' }) });
 */
export function jsonLogger(options: { level?: LogLevel; write?: (line: string) => void } = {}): Logger {
  const min = RANK[options.level ?? 'info'];
  const write = options.write ?? stdoutLine;
  const logger = (entry: LogEntry) => {
    if (RANK[entry.level] < min) return;
    write(JSON.stringify({ time: new Date().toISOString(), ...entry }));
  };
  return Object.assign(logger, { enabled: (level: LogLevel) => RANK[level] >= min });
}

/** A logger that drops everything (tests, embedding). */
export const silentLogger: Logger = Object.assign(() => undefined, { enabled: () => false });
