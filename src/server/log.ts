/** How serious a log entry is. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One structured log entry: a level, a short message, and flat fields. Never holds cookies, binders or bodies. */
export interface LogEntry {
  level: LogLevel;
  msg: string;
  [field: string]: unknown;
}

/** Receives log entries; the server calls it once per request and on background events. */
export type Logger = (entry: LogEntry) => void;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * A logger writing one JSON object per line (`{"time":…,"level":…,"msg":…}`),
 * dropping entries below `level`.
 * @example
 * createApp({ storage, logger: jsonLogger({ level: 'warn' }) });
 */
export function jsonLogger(options: { level?: LogLevel; write?: (line: string) => void } = {}): Logger {
  const min = RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  return (entry) => {
    if (RANK[entry.level] < min) return;
    write(JSON.stringify({ time: new Date().toISOString(), ...entry }));
  };
}

/** A logger that drops everything (tests, embedding). */
export const silentLogger: Logger = () => undefined;
