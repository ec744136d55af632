// pg-boss 12 baseline for the automation benchmarks, measured in the same run:
//   node bench/pgboss-baseline.mjs   (alone; bench/run.mjs calls pgBossDrain itself)
// The same shape as the automation backlog drain: `jobs` jobs are queued first (one `send`
// each, timed separately), then `workers` pg-boss instances, each with its own connection
// pool as a separate scheduler process would have, work them off; jobs/s is counted from the
// moment the workers start until the last job is completed. Workers fetch and complete in
// batches (`batchSize`) and keep fetching while batches come back full, pg-boss's fast path.
import { PgBoss } from 'pg-boss';
import pg from 'pg';

/**
 * Queues `jobs` jobs and drains them with `workers` pg-boss instances in a throwaway schema.
 * Resolves to `{ sendPerSecond, jobsPerSecond, drainMs, jobs, workers, batchSize }`.
 */
export async function pgBossDrain({ databaseUrl, jobs = 3000, workers = 2, batchSize = 20 }) {
  const schema = `wayflow_bench_pgboss_${process.pid}_${workers}`;
  const admin = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  const options = { connectionString: databaseUrl, schema, max: 4, supervise: false, schedule: false, migrate: true };
  const sender = new PgBoss(options);
  sender.on('error', (error) => console.error('pg-boss error:', error.message));
  await sender.start();
  const queue = 'bench';
  await sender.createQueue(queue);
  const bosses = [];
  try {
    const sendStart = performance.now();
    for (let i = 0; i < jobs; i++) await sender.send(queue, { i });
    const sendMs = performance.now() - sendStart;
    let done = 0;
    let finished;
    const allDone = new Promise((resolve) => {
      finished = resolve;
    });
    const started = performance.now();
    for (let w = 0; w < workers; w++) {
      const boss = new PgBoss({ ...options, migrate: false });
      boss.on('error', (error) => console.error('pg-boss error:', error.message));
      await boss.start();
      bosses.push(boss);
      await boss.work(queue, { batchSize, pollingIntervalSeconds: 0.5, burstWhenBatchFull: true }, async (batch) => {
        done += batch.length;
        if (done >= jobs) finished();
      });
    }
    await allDone;
    // The handler returned for the last batch; its completion is written right after: wait until none is left active.
    const counts = async () => (await admin.query(`SELECT count(*)::integer AS n FROM ${schema}.job WHERE name = $1 AND state <> 'completed'`, [queue])).rows[0].n;
    while ((await counts()) > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const drainMs = performance.now() - started;
    return { sendPerSecond: Math.round(jobs / (sendMs / 1000)), jobsPerSecond: Math.round(jobs / (drainMs / 1000)), drainMs: Math.round(drainMs), jobs, workers, batchSize };
  } finally {
    for (const boss of bosses) await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
    await sender.stop({ graceful: false, wait: true }).catch(() => undefined);
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { resolveTestDatabase } = await import('../test/helpers/test-database.mjs');
  const database = await resolveTestDatabase({ durable: true, loopbackOnly: true });
  try {
    for (const workers of [1, 2]) console.log(JSON.stringify(await pgBossDrain({ databaseUrl: database.url, workers, jobs: Number(process.env.JOBS ?? 3000) })));
  } finally {
    await database.stop();
  }
}
