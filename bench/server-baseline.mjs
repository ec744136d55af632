// The benchmark's hand-written baseline (run by bench/server.mjs, not alone): a bare
// node:http server doing the tasks API's put and get with the same conditional SQL,
// without Hono, sessions, validation, rate limits or logs.
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
let query;
if (target.startsWith('postgres')) {
  const pool = new pg.Pool({ connectionString: target, max: 10, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
  if (schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`).catch(() => undefined);
  query = async (text, params) => (await pool.query(text, params)).rows;
} else {
  const db = await PGlite.create(target);
  query = async (text, params) => (await db.query(text, params)).rows;
}
await query(TABLE).catch(() => undefined);

const server = createServer(async (request, response) => {
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
