// The benchmark's hand-written baseline (run by bench/server.mjs, not alone): a bare
// node:http server doing the tasks API's put and get with the same conditional SQL,
// without Hono, sessions, validation, rate limits or logs; and, on PostgreSQL, the rows an
// instance start writes (its key, the instance, its history) in one transaction, as
// `POST /automations/start/<automation>`.
//   node bench/server-baseline.mjs <pglite data folder | postgres://…> [schema]
// Prints {"msg":"wayflow serve started","url":…} like `wayflow serve`, for the same harness.
import { createServer } from 'node:http';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

const [target, schema] = process.argv.slice(2);
if (!target) throw new Error('usage: node bench/server-baseline.mjs <pglite folder | postgres url> [schema]');
const TABLE = `CREATE TABLE IF NOT EXISTS wayflow_tasks (owner text NOT NULL, id text NOT NULL, binder text NOT NULL, version integer NOT NULL,
  record text NOT NULL, summary text NOT NULL, last_active_at double precision NOT NULL, expires_at double precision NOT NULL,
  idle_until double precision NOT NULL, PRIMARY KEY (owner, id))`;
const START_TABLES = [
  'CREATE TABLE IF NOT EXISTS baseline_links (owner text NOT NULL, idempotency_key text NOT NULL, instance_id text, created_at double precision NOT NULL, PRIMARY KEY (owner, idempotency_key))',
  'CREATE TABLE IF NOT EXISTS baseline_instances (id text PRIMARY KEY, automation text NOT NULL, state text NOT NULL, finished boolean NOT NULL, created_at double precision NOT NULL, version integer NOT NULL)',
  'CREATE TABLE IF NOT EXISTS baseline_history (instance_id text NOT NULL, task_id integer NOT NULL, status text NOT NULL, created double precision NOT NULL, finished double precision, PRIMARY KEY (instance_id, task_id))',
];
let query;
let transaction = null;
if (target.startsWith('postgres')) {
  const pool = new pg.Pool({ connectionString: target, max: 10, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
  if (schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`).catch(() => undefined);
  query = async (text, params) => (await pool.query(text, params)).rows;
  for (const statement of START_TABLES) await query(statement).catch(() => undefined);
  transaction = async (work) => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(async (text, params) => (await client.query(text, params)).rows);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  };
} else {
  const db = await PGlite.create(target);
  query = async (text, params) => (await db.query(text, params)).rows;
}
await query(TABLE).catch(() => undefined);

/** A start: the key, the instance at its form and its two history rows, in one transaction. */
async function start(request, response) {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  const input = JSON.parse(Buffer.concat(chunks).toString()).input;
  const owner = 'baseline';
  const key = String(request.headers['idempotency-key']);
  const id = crypto.randomUUID();
  const now = Date.now();
  const state = JSON.stringify({ data: { ...input, receivedAt: now }, paths: [{ id: 1, node: 'approve', status: 'form', taskId: 2, enteredAt: now }] });
  await transaction(async (sql) => {
    await sql('INSERT INTO baseline_links (owner, idempotency_key, instance_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [owner, key, id, now]);
    await sql('INSERT INTO baseline_instances (id, automation, state, finished, created_at, version) VALUES ($1, $2, $3, false, $4, 1)', [id, 'BenchOrder', state, now]);
    await sql('INSERT INTO baseline_history (instance_id, task_id, status, created, finished) VALUES ($1, 1, $2, $3, $3), ($1, 2, $4, $3, NULL)', [id, 'received', now, 'approve']);
  });
  response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ instance: { id, automation: 'BenchOrder', status: 'running', nodes: ['approve'] } }));
}

const server = createServer(async (request, response) => {
  if (transaction && request.method === 'POST' && request.url.startsWith('/automations/start/')) return start(request, response);
  const id = request.url.split('/')[2];
  const binder = request.headers['wayflow-binder'];
  const now = Date.now();
  if (request.method === 'PUT') {
    const chunks = [];
    for await (const chunk of request) chunks.push(chunk);
    const text = Buffer.concat(chunks).toString();
    const record = JSON.parse(text);
    const expected = Number(String(request.headers['if-match']).replace(/\D/g, ''));
    const rows =
      expected === 0
        ? await query(
            `INSERT INTO wayflow_tasks (owner, id, binder, version, record, summary, last_active_at, expires_at, idle_until)
             VALUES ($1, $2, $3, $4, $5, '{}', $6, $7, $8) ON CONFLICT (owner, id) DO NOTHING RETURNING version`,
            ['baseline', id, binder, record.version, text, record.lastActiveAt, record.expiresAt, now + 1_200_000],
          )
        : await query(
            `UPDATE wayflow_tasks SET version = $4, record = $5, last_active_at = $6, expires_at = $7, idle_until = $8
             WHERE owner = $1 AND id = $2 AND binder = $3 AND version = $9 AND idle_until > $10 RETURNING version`,
            ['baseline', id, binder, record.version, text, record.lastActiveAt, record.expiresAt, now + 1_200_000, expected, now],
          );
    response.writeHead(rows.length ? 200 : 409, { 'content-type': 'application/json' }).end(JSON.stringify({ version: record.version }));
    return;
  }
  const rows = await query('SELECT record FROM wayflow_tasks WHERE owner = $1 AND id = $2 AND binder = $3 AND idle_until > $4 AND expires_at > $4', ['baseline', id, binder, now]);
  if (!rows.length) response.writeHead(404).end();
  else response.writeHead(200, { 'content-type': 'application/json' }).end(`{"task":${rows[0].record}}`);
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ msg: 'wayflow serve started', url: `http://127.0.0.1:${server.address().port}` })));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
