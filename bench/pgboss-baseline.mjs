// pg-boss 12 baseline for the automation benchmarks, measured in the same run:
//   node bench/pgboss-baseline.mjs   (alone; bench/run.mjs calls pgBossDrain itself)
// The same shape as the automation backlog drain: `jobs` jobs are queued first (one `send`
// each, timed separately), then `workers` worker processes, each a pg-boss instance with its
// own connection pool, started as the scheduler processes are (each in a session of its own,
// see own-session.mjs), work them off; jobs/s is counted from the moment the started workers are
// told to go until the last job is completed. Workers fetch and complete in batches
// (`batchSize`) and keep fetching while batches come back full, pg-boss's fast path.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PgBoss } from 'pg-boss';
import pg from 'pg';
import { ownSession } from './own-session.mjs';

const QUEUE = 'bench';
const bossOptions = (databaseUrl, schema) => ({ connectionString: databaseUrl, schema, max: 4, supervise: false, schedule: false });

/**
 * Queues `jobs` jobs and drains them with `workers` pg-boss worker processes in a throwaway schema.
 * Resolves to `{ sendPerSecond, jobsPerSecond, drainMs, jobs, workers, batchSize }`.
 */
export async function pgBossDrain({ databaseUrl, jobs = 3000, workers = 2, batchSize = 20 }) {
  const schema = `wayflow_bench_pgboss_${process.pid}_${workers}`;
  const admin = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  const sender = new PgBoss({ ...bossOptions(databaseUrl, schema), migrate: true });
  sender.on('error', (error) => console.error('pg-boss error:', error.message));
  await sender.start();
  await sender.createQueue(QUEUE);
  const children = [];
  const killAll = () => {
    for (const child of children) child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  try {
    const sendStart = performance.now();
    for (let i = 0; i < jobs; i++) await sender.send(QUEUE, { i });
    const sendMs = performance.now() - sendStart;
    // Every worker started and connected before the clock starts, as the schedulers are.
    await Promise.all(
      Array.from({ length: workers }, () => {
        const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'worker', databaseUrl, schema, String(batchSize)], { ...ownSession, stdio: ['pipe', 'pipe', 'inherit'] });
        children.push(child);
        return new Promise((resolve, reject) => {
          child.stdout.on('data', (chunk) => chunk.toString().includes('ready') && resolve());
          child.once('exit', (code) => reject(new Error(`A pg-boss worker exited with code ${code} before it started.`)));
        });
      }),
    );
    const started = performance.now();
    for (const child of children) child.stdin.write('go\n');
    const left = async () => (await admin.query(`SELECT count(*)::integer AS n FROM ${schema}.job WHERE name = $1 AND state <> 'completed'`, [QUEUE])).rows[0].n;
    while ((await left()) > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const drainMs = performance.now() - started;
    return { sendPerSecond: Math.round(jobs / (sendMs / 1000)), jobsPerSecond: Math.round(jobs / (drainMs / 1000)), drainMs: Math.round(drainMs), jobs, workers, batchSize };
  } finally {
    killAll();
    process.removeListener('exit', killAll);
    await sender.stop({ graceful: false, wait: true }).catch(() => undefined);
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

/** A worker process: connects, says `ready`, and works the queue once told `go` on stdin. */
async function worker(databaseUrl, schema, batchSize) {
  const boss = new PgBoss({ ...bossOptions(databaseUrl, schema), migrate: false });
  boss.on('error', (error) => console.error('pg-boss error:', error.message));
  await boss.start();
  process.stdin.once('data', () =>
    boss.work(QUEUE, { batchSize: Number(batchSize), pollingIntervalSeconds: 0.5, burstWhenBatchFull: true }, async () => undefined),
  );
  process.stdout.write('ready\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv[2] === 'worker') {
    await worker(process.argv[3], process.argv[4], process.argv[5]);
  } else {
    const { resolveTestDatabase } = await import('../test/helpers/test-database.mjs');
    const database = await resolveTestDatabase({ durable: true, loopbackOnly: true });
    try {
      for (const workers of [1, 2]) console.log(JSON.stringify(await pgBossDrain({ databaseUrl: database.url, workers, jobs: Number(process.env.JOBS ?? 3000) })));
    } finally {
      await database.stop();
    }
  }
}
