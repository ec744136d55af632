// The body of bench/automations-profile.mjs, bundled by it (see there for what is measured).
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { createAutomationRunner, systemClock } from '../src/automations/index.ts';
import { sqlAutomationStorage } from '../src/server/automations/index.ts';
import { postgresDatabase } from '../src/server/postgres.ts';
import { cloneInstances, removeInstances, startProcesses, stopProcesses } from './automations-bench.ts';
import { benchTimer } from './automations-defs.ts';

/** One scheduler build: its bundled entry and automations module. */
export interface ProfileVariant {
  label: string;
  mainPath: string;
  defsPath: string;
}

/** One drain's figures. */
export interface ProfileResult {
  variant: string;
  processes: number;
  drainMs: number;
  stepsPerSecond: number;
  /** CPU (user + system) of the scheduler processes and of the database backends of this database, per automation step, µs. */
  nodeCpuPerStep: number;
  databaseCpuPerStep: number;
  /** CPU of this benchmark's own backend (the completion poll and the wait-event samples), per step, µs: not the schedulers', but taken from the same two cores. */
  monitorCpuPerStep: number;
  /** Wait events of the scheduler backends sampled during the drain (`type:event` or `cpu`), with counts. */
  waits: Record<string, number>;
  perProcess: Record<string, number>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const TICKS = 100;

/** utime + stime of a process in ms (0 once it is gone). */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
  } catch {
    return 0;
  }
}

/**
 * Drains `backlog` instances of the benchmark automation (two steps each) with `n` scheduler
 * processes of `variant`, `waiting` more waiting far in the future, and measures the CPU the
 * scheduler processes and the database backends spent on it, and the backends' wait events.
 */
export async function profileDrain(databaseUrl: string, variant: ProfileVariant, n: number, backlog: number, waiting: number): Promise<ProfileResult> {
  const schema = `wayflow_prof_${process.pid}_${n}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.query(`CREATE SCHEMA ${schema}`);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2, options: `-c search_path=${schema}` });
  const db = postgresDatabase(pool);
  const children: ChildProcess[] = [];
  try {
    const storage = await sqlAutomationStorage(db);
    const runner = createAutomationRunner({ storage, clock: systemClock, automations: [benchTimer] });
    await cloneInstances(db, runner, (await runner.create(benchTimer, { dueAt: Date.now() + 3_600_000 })).id, 'waiting-', waiting);
    await admin.query(`VACUUM ANALYZE ${schema}.wayflow_automation_instances`);
    children.push(...(await startProcesses({ ...variant, databaseUrl }, schema, n, process.env.SCHEDULER_NODE_ARGS?.split(' ').filter(Boolean))));
    // A warm-up drain first (WARMUP instances, default 5 000; 0 for none): the processes' code compiled and their
    // caches filled, as a running scheduler's are, so the CPU measured is a step's and not the processes' start.
    const warmup = Number(process.env.WARMUP ?? 5_000);
    if (warmup > 0) {
      await cloneInstances(db, runner, (await runner.create(benchTimer, { dueAt: Date.now() + 1000 })).id, 'warmup-', warmup);
      const started = Date.now();
      while ((await admin.query(`SELECT 1 FROM ${schema}.wayflow_automation_instances WHERE id LIKE 'warmup-%' AND NOT finished LIMIT 1`)).rows.length > 0) {
        if (Date.now() > started + 120_000) throw new Error('the warm-up drain did not end in 120 s');
        await sleep(20);
      }
      await removeInstances(db, 'warmup-');
      await admin.query(`VACUUM ANALYZE ${schema}.wayflow_automation_instances, ${schema}.wayflow_automation_history`);
    }
    const dueAt = Date.now() + 2500;
    await cloneInstances(db, runner, (await runner.create(benchTimer, { dueAt, backlog: true })).id, 'backlog-', backlog);
    const monitorPid = (await admin.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const backends = async () =>
      (await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> $1", [monitorPid])).rows.map((r) => r.pid);
    // The bench's own pool is idle from here on; its backends count with the others (idle: no CPU).
    while (Date.now() < dueAt - 30) await sleep(10);
    const pids = await backends();
    const nodeBefore = children.map((c) => cpuMs(c.pid!));
    const dbBefore = pids.map(cpuMs);
    const monitorBefore = cpuMs(monitorPid);
    const waits: Record<string, number> = {};
    const far = dueAt + 1_000_000;
    let doneAt = 0;
    for (;;) {
      // Prepared (planned once: the plan of this statement costs more than running it).
      const { rows } = await admin.query<{ left: boolean; waits: { t: string | null; e: string | null; s: string }[] | null }>({
        name: 'drain-monitor',
        // Cheap while the drain runs (a primary-key look at the backlog's last instance, claimed last): only once it
        // has finished is the due index scanned for the others, since that scan costs this backend up to a
        // millisecond (every row drained so far is a dead index entry on its way), CPU the schedulers would miss.
        text: `SELECT CASE WHEN (SELECT finished FROM ${schema}.wayflow_automation_instances WHERE id = $3)
                  THEN EXISTS (SELECT 1 FROM ${schema}.wayflow_automation_instances WHERE NOT finished AND due_at < $1) ELSE true END AS left,
                (SELECT json_agg(json_build_object('t', wait_event_type, 'e', wait_event, 's', state)) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> $2) AS waits`,
        values: [far, monitorPid, `backlog-${backlog}`],
      });
      const row = rows[0]!;
      for (const w of row.waits ?? []) {
        if (w.s !== 'active') continue;
        const key = w.t ? `${w.t}:${w.e}` : 'cpu';
        waits[key] = (waits[key] ?? 0) + 1;
      }
      if (Date.now() > dueAt && !row.left) {
        doneAt = Date.now();
        break;
      }
      if (Date.now() > dueAt + 120_000) throw new Error('the drain did not end in 120 s');
      await sleep(5);
    }
    const monitorCpu = cpuMs(monitorPid) - monitorBefore;
    const nodeCpu = children.reduce((sum, c, i) => sum + cpuMs(c.pid!) - nodeBefore[i]!, 0);
    // Backends opened during the drain count whole.
    const dbCpu = (await backends()).reduce((sum, pid) => sum + cpuMs(pid) - (dbBefore[pids.indexOf(pid)] ?? 0), 0);
    const steps = 2 * backlog;
    const perProcess: Record<string, number> = {};
    for (const row of (await admin.query<{ state: string }>(`SELECT state FROM ${schema}.wayflow_automation_instances WHERE finished AND id LIKE 'backlog-%'`)).rows) {
      const pid = String((JSON.parse(row.state) as { data: { pid: number } }).data.pid);
      perProcess[pid] = (perProcess[pid] ?? 0) + 1;
    }
    const drainMs = doneAt - dueAt;
    return {
      variant: variant.label,
      processes: n,
      drainMs,
      stepsPerSecond: Math.round(steps / (drainMs / 1000)),
      nodeCpuPerStep: Math.round((nodeCpu * 1000) / steps),
      databaseCpuPerStep: Math.round((dbCpu * 1000) / steps),
      monitorCpuPerStep: Math.round((monitorCpu * 1000) / steps),
      waits,
      perProcess,
    };
  } finally {
    await stopProcesses(children);
    await pool.end();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}
