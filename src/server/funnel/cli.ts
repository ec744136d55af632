import { parseArgs } from 'node:util';
import { WayflowError } from '../../core/index.ts';
import { pgliteStorage } from '../pglite.ts';
import { postgresStorage } from '../postgres.ts';
import { formatFunnel } from './text.ts';
import { funnelWindow } from './window.ts';

/** What `wayflow funnel --help` prints. */
export const FUNNEL_USAGE = `Usage: wayflow funnel <flow> [--since <date|duration>] [--until <date>] [--data <dir>] [--schema <name>] [--json]

Prints the funnel of a browser flow, per flow version: tasks started, how many reached
each step, completed, abandoned and in progress at each step, the median and p90 time
spent on each step, refused submissions per step and field, and the moves back.
Reads PGlite in --data (default .wayflow/data; stop the server using it first), or
PostgreSQL when DATABASE_URL is set.

  --since <time>   tasks created since: a date (2026-12-01), epoch ms, or a duration
                   back from now (30m, 24h, 7d, 2w); default 7d
  --until <time>   tasks created before (default now)
  --json           print the funnels as JSON instead of tables
`;

/** A `wayflow funnel` argument is missing or malformed. */
export class FunnelUsageError extends WayflowError {
  override readonly name: string = 'FunnelUsageError';
  constructor(message: string) {
    super('usage', `${message}\n\n${FUNNEL_USAGE}`);
  }
}

/** Runs `wayflow funnel <args>` (the arguments after `funnel`), writing the tables (or JSON) with `write`. */
export async function funnelCli(args: readonly string[], options: { env: NodeJS.ProcessEnv; write: (line: string) => void; now?: number }): Promise<null> {
  let parsed: ReturnType<typeof parse>;
  const parse = () =>
    parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { since: { type: 'string' }, until: { type: 'string' }, data: { type: 'string' }, schema: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } },
    });
  try {
    parsed = parse();
  } catch (error) {
    throw new FunnelUsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    options.write(FUNNEL_USAGE);
    return null;
  }
  if (positionals.length !== 1) throw new FunnelUsageError(positionals.length === 0 ? 'Name the flow: wayflow funnel <flow>.' : `One flow at a time, not "${positionals.join(' ')}".`);
  const flowId = positionals[0]!;
  const now = options.now ?? Date.now();
  const window = funnelWindow(values.since, values.until, now);
  if ('invalid' in window) throw new FunnelUsageError(`"${window.invalid}" is not a time: give a date (2026-12-01), epoch milliseconds or, for --since, a duration (30m, 24h, 7d, 2w).`);
  const url = options.env.DATABASE_URL;
  const storage = url
    ? await postgresStorage({ connectionString: url, ...(values.schema ? { schema: values.schema } : {}) })
    : await pgliteStorage({ dataDir: values.data ?? '.wayflow/data' });
  try {
    const funnels = await storage.funnels(flowId, window, now);
    if (values.json) options.write(JSON.stringify({ funnels }, null, 2));
    else if (funnels.length === 0) options.write(`No task of flow "${flowId}" was created in the window (${new Date(window.since).toISOString()} to ${new Date(window.until).toISOString()}).`);
    else options.write(funnels.map(formatFunnel).join('\n\n'));
  } finally {
    await storage.close();
  }
  return null;
}
