import { AsyncLocalStorage } from 'node:async_hooks';
import type { SqlClient } from '../sql.ts';
import { NoAutomationTransactionError } from './errors.ts';

// Kept on globalThis so that a bundled automations module and the bundled scheduler share it.
const KEY = Symbol.for('wayflow.automationTransaction');
const holder = globalThis as { [KEY]?: AsyncLocalStorage<SqlClient> };
const current: AsyncLocalStorage<SqlClient> = holder[KEY] ?? new AsyncLocalStorage<SqlClient>();
holder[KEY] = current;

// How many `withAutomationTransaction` calls are running, and whether a look at that count (to disable the hooks) is
// queued, shared the same way: one bundle must not disable it under another's.
const RUNNING = Symbol.for('wayflow.automationTransaction.running');
const counter = globalThis as { [RUNNING]?: { count: number; disableQueued?: boolean } };
const running: { count: number; disableQueued?: boolean } = counter[RUNNING] ?? { count: 0 };
counter[RUNNING] = running;

/** Disables the hooks if no call runs now, after the promise jobs of this turn (a scheduler's group runs its instances in them). */
function disableWhenIdle(): void {
  running.disableQueued = false;
  if (running.count === 0) current.disable();
}

/**
 * Runs `work` with `client` as the transaction `automationTransaction()` returns. On Node 20 an
 * `AsyncLocalStorage` once used keeps promise hooks on for the whole process, taxing every
 * promise of every request: it is disabled again once no such call runs, so they are on only
 * while automation code runs (node functions, not a start's database round trips). Disabled at
 * the end of the turn, not as each call ends: the instances of a scheduler's group run one
 * after another in one turn, and turning the hooks off and on between them cost more than
 * leaving them on.
 */
export async function withAutomationTransaction<T>(client: SqlClient, work: () => Promise<T>): Promise<T> {
  running.count += 1;
  try {
    return await current.run(client, work);
  } finally {
    running.count -= 1;
    if (running.count === 0 && !running.disableQueued) {
      running.disableQueued = true;
      setImmediate(disableWhenIdle);
    }
  }
}

/**
 * The database transaction of the step being run, for node functions whose effect lives in
 * the same database: what they write commits with the step or not at all (exactly once).
 * @example
 * flow.execute(async (ctx) => {
 *   await automationTransaction().query('INSERT INTO invoices (key, amount) VALUES ($1, $2)', [ctx.idempotencyKey, 10]);
 * });
 */
export function automationTransaction(): SqlClient {
  const client = current.getStore();
  if (!client) throw new NoAutomationTransactionError();
  return client;
}

let savepoints = 0;

/**
 * Runs `work` on the step's transaction inside a SAVEPOINT: if `work` throws, its writes are
 * undone and the error is rethrown (so the node fails, or continues at `.onError`), while the
 * step itself still commits. Without it, writes of a node function that throws afterwards
 * commit together with the recorded error.
 * @example
 * flow.execute((ctx) => automationSavepoint(async (sql) => {
 *   await sql.query('INSERT INTO charges (key) VALUES ($1)', [ctx.idempotencyKey]);
 *   await chargeCard(ctx.idempotencyKey); // throws: the insert is undone
 * })).onError('retry');
 */
export async function automationSavepoint<T>(work: (sql: SqlClient) => Promise<T>): Promise<T> {
  const sql = automationTransaction();
  const name = `wayflow_savepoint_${++savepoints}`;
  await sql.query(`SAVEPOINT ${name}`);
  try {
    const result = await work(sql);
    await sql.query(`RELEASE SAVEPOINT ${name}`);
    return result;
  } catch (error) {
    await sql.query(`ROLLBACK TO SAVEPOINT ${name}`);
    throw error;
  }
}
