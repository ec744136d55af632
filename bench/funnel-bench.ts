// The funnel benchmark's work (bench/funnel.mjs runs it): 100,000 checkout tasks with realistic histories in the
// outcomes the sweeper keeps (with their facts) plus live ones, then the funnel of the flow computed by the storage (SQL
// over the kept facts and those of the live tasks, src/server/funnel/sql.ts) against a plain SQL group-by of the same rows (tasks per last step), on PGlite
// and on PostgreSQL.
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { seeded } from '../demo/traffic/shoppers.ts';
import type { HistoryEntry } from '../src/core/store.ts';
import { tagsOf, taskFacts } from '../src/server/funnel/model.ts';
import { pgliteStorage } from '../src/server/pglite.ts';
import { postgresStorage } from '../src/server/postgres.ts';
import type { TaskStorage } from '../src/server/storage.ts';

const DAY = 86_400_000;

/** One checkout's history: through identify and pay (with their branches), refusals and moves back, given up on the way or completed. */
function checkoutHistory(random: () => number, start: number): HistoryEntry[] {
  const entries: HistoryEntry[] = [{ at: start, event: 'start', from: null, to: 'product', actor: null }];
  let at = start;
  let step = 'product';
  const move = (to: string, event = 'submit') => {
    at += 1000 + Math.floor(random() * 60_000);
    entries.push({ at, event, from: step, to, actor: null, ...(event === 'submit' ? { outcome: 'complete' } : {}) });
    step = to;
  };
  const refuse = (fields: string[]) => {
    at += 500 + Math.floor(random() * 20_000);
    entries.push({ at, event: 'refused', from: step, to: step, actor: null, fields });
  };
  const path = ['identify', random() < 0.6 ? 'login' : 'register', 'pay', random() < 0.3 ? 'savedMethod' : 'newMethod'];
  if (random() < 0.1) refuse(['quantity']);
  for (const next of path) {
    if (random() < 0.07) return entries;
    move(next);
    if (next === 'login' && random() < 0.2) refuse(['password']);
    if (next === 'register' && random() < 0.15) refuse(['email', 'password']);
  }
  if (step === 'newMethod') {
    const method = random() < 0.6 ? 'card' : random() < 0.6 ? 'bankAccount' : 'paypal';
    move(method);
    if (method === 'card' && random() < 0.3) refuse(['number']);
    if (method === 'bankAccount') {
      if (random() < 0.2) refuse(['iban']);
      move('accountAddress');
    }
  }
  if (random() < 0.08) return entries;
  move('confirm');
  if (random() < 0.1) {
    move('pay', 'back');
    move('confirm', 'goto');
  }
  if (random() < 0.06) return entries;
  move('$completed');
  return entries;
}

/** The rows of `count` checkout tasks created within the `days` before `now`. */
function tasks(count: number, now: number, days: number) {
  const random = seeded(16);
  return Array.from({ length: count }, (_, i) => {
    const createdAt = now - Math.floor(random() * days * DAY);
    const history = checkoutHistory(random, createdAt);
    return { owner: `session:${i % 997}`, id: `task-${i}`, createdAt, history, lastActiveAt: history.at(-1)!.at };
  });
}

type Query = (text: string, params?: unknown[]) => Promise<unknown[]>;

/** Stores `outcomes` as the sweeper keeps them and `live` as task rows, in batches. */
async function store(query: Query, outcomes: ReturnType<typeof tasks>, live: ReturnType<typeof tasks>, now: number) {
  const batch = 5000;
  for (let i = 0; i < outcomes.length; i += batch) {
    // As the sweeper keeps them: the history and its facts (src/server/sql.ts).
    const rows = outcomes.slice(i, i + batch).map((t) => {
      const facts = taskFacts(t.history);
      return { ...t, finished: facts.finished, tags: tagsOf(facts), last_step: facts.last, spent_steps: facts.spentSteps, spent_ms: facts.spentMs };
    });
    await query(
      `INSERT INTO wayflow_task_outcomes (owner, id, flow_id, flow_version, created_at, last_active_at, ended_at, ended_by, last_step, history,
         finished, tags, spent_steps, spent_ms)
       SELECT owner, id, 'checkout', 1, "createdAt", "lastActiveAt", "lastActiveAt", 'expired', last_step, history,
         finished, tags, spent_steps, spent_ms
       FROM jsonb_to_recordset($1::jsonb) AS t(owner text, id text, "createdAt" float8, "lastActiveAt" float8, last_step text, history jsonb,
         finished text, tags text[], spent_steps text[], spent_ms float8[])`,
      [JSON.stringify(rows)],
    );
  }
  for (const t of live) {
    const record = { id: t.id, flowId: 'checkout', flowVersion: 1, version: t.history.length, data: {}, snapshot: { value: {}, context: {} }, history: t.history, binder: 'b', createdAt: t.createdAt, lastActiveAt: t.lastActiveAt, expiresAt: now + 600_000 };
    await query(
      `INSERT INTO wayflow_tasks (owner, id, binder, version, record, summary, last_active_at, expires_at, idle_until) VALUES ($1, $2, 'b', $3, $4, $5, $6, $7, $7)`,
      [t.owner, t.id, t.history.length, JSON.stringify(record), JSON.stringify({ flowId: 'checkout', step: t.history.at(-1)!.to }), t.lastActiveAt, now + 600_000],
    );
  }
  await query('ANALYZE wayflow_task_outcomes');
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Times `work` `samples` times after one warm-up; resolves to the median in ms. */
async function timed(work: () => Promise<unknown>, samples: number): Promise<number> {
  await work();
  const spent: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await work();
    spent.push(performance.now() - started);
  }
  return median(spent);
}

/** What one database measured: the funnel and the plain group-by, median ms, and what the funnel found. */
export interface FunnelMeasure {
  tasks: number;
  live: number;
  funnelMs: number;
  baselineMs: number;
  started: number;
  steps: number;
}

/** Measures the funnel of `count` tasks (and `live` live ones) on one database, `samples` timed runs each. */
async function measureOn(storage: TaskStorage, query: Query, count: number, live: number, samples: number): Promise<FunnelMeasure> {
  const now = Date.UTC(2026, 11, 1);
  const all = tasks(count + live, now - 3_600_000, 30);
  await store(query, all.slice(0, count), all.slice(count), now);
  const window = { since: now - 31 * DAY, until: now };
  const [funnel] = await storage.funnels('checkout', window, now);
  const funnelMs = await timed(() => storage.funnels('checkout', window, now), samples);
  const baselineMs = await timed(
    () => query('SELECT last_step, count(*)::integer AS n FROM wayflow_task_outcomes WHERE flow_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY last_step', ['checkout', window.since, window.until]),
    samples,
  );
  return { tasks: count, live, funnelMs, baselineMs, started: funnel?.started ?? 0, steps: funnel?.steps.length ?? 0 };
}

/** The funnel on an in-memory PGlite. */
export async function measurePglite(count: number, live: number, samples: number): Promise<FunnelMeasure> {
  const db = await PGlite.create();
  const storage = await pgliteStorage({ db });
  try {
    return await measureOn(storage, async (text, params) => (await db.query(text, params)).rows, count, live, samples);
  } finally {
    await storage.close();
  }
}

/** The funnel on PostgreSQL at `url`, in a schema of its own, dropped afterwards. */
export async function measurePostgres(url: string, count: number, live: number, samples: number): Promise<FunnelMeasure> {
  const schema = `wayflow_bench_funnel_${process.pid}`;
  const storage = await postgresStorage({ connectionString: url, schema });
  const admin = new pg.Pool({ connectionString: url, max: 1, options: `-c search_path=${schema}` });
  try {
    return await measureOn(storage, async (text, params) => (await admin.query(text, params)).rows, count, live, samples);
  } finally {
    await storage.close();
    if (!process.env.KEEP_SCHEMA) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}
