import { Hono, type MiddlewareHandler } from 'hono';
import type { Logger } from './log.ts';
import type { SqlClient } from './sql.ts';
import type { TaskStorage } from './storage.ts';

/** How long the readiness check waits for the database before it answers 503. */
const READY_TIMEOUT_MS = 2000;

/** What the readiness check asks: the task storage, and the automations' database when there is one. */
export interface HealthChecks {
  storage: TaskStorage;
  automations?: SqlClient | undefined;
  logger: Logger;
}

/** Resolves to null when every database answers within `READY_TIMEOUT_MS`, else to what went wrong. */
async function databaseProblem(checks: HealthChecks): Promise<string | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
  });
  try {
    await Promise.race([Promise.all([checks.storage.ping(), checks.automations?.query('SELECT 1')]), timeout]);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `GET /health`: liveness, answered without touching the database (`{ ok: true }`).
 * `GET /health/ready`: readiness, `{ ok: true }` once the database answers a query within
 * 2 s, else 503 `database-unavailable` with `Retry-After` (a load balancer then sends
 * traffic elsewhere). `middleware` runs before the readiness check only (e.g. a rate limit).
 */
export function healthRoutes(checks: HealthChecks, middleware: readonly MiddlewareHandler[] = []) {
  const app = new Hono();
  for (const handler of middleware) app.use('/ready', handler);
  return app
    .get('/', (c) => c.json({ ok: true }, 200))
    .get('/ready', async (c) => {
      const problem = await databaseProblem(checks);
      if (problem === null) return c.json({ ok: true }, 200);
      checks.logger({ level: 'warn', msg: 'readiness check: the database does not answer', error: problem });
      c.header('Retry-After', '5');
      return c.json({ ok: false, error: { code: 'database-unavailable', message: 'The database does not answer. Retry later; the server keeps trying.' } }, 503);
    });
}
