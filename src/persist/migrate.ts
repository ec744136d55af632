import { type CompiledFlow, compile, type TrailEntry } from '../core/index.ts';
import type { Flow } from '../core/index.ts';
import { inert, isStep } from '../core/shared.ts';
import { TaskRecordError } from '../core/index.ts';
import type { TaskRecord } from '../core/index.ts';
import { type Phase, positionOf } from '../core/shared.ts';
import { assertWritable } from './record.ts';

/** Turns a record written by flow version `n` into one of version `n + 1` (change `data`, rename inputs, …). */
export type RecordMigration = (record: TaskRecord) => TaskRecord;

/** How records of older versions of a flow become records of the current one. */
export interface FlowMigrations {
  /** `versions[n]` migrates a record of version `n` to `n + 1`; a version without one is carried over unchanged. */
  versions?: Record<number, RecordMigration>;
  /** Records older than this version cannot be migrated (default 1: all can); they are quarantined. */
  oldest?: number;
  /**
   * Removed (or renamed) steps and the step a task waiting there continues at,
   * like django-automations' "turn the node into a no-op that moves to the next one".
   * A removed step with no entry resumes at the nearest surviving step visited before it.
   */
  steps?: Record<string, string>;
}

/** What `migrateRecord` did. */
export interface MigrationResult {
  record: TaskRecord;
  /** The record differs from the stored one and should be written back. */
  changed: boolean;
  /** The step the record pointed at and where it resumes now, when its position had to move. */
  relocated: { from: string | null; to: string } | null;
}

/** The record was written by a newer version of the flow than this page runs; it is left untouched. */
export class FlowVersionAheadError extends TaskRecordError {
  override readonly name: string = 'FlowVersionAheadError';
  constructor(flowId: string, taskId: string, recordVersion: number, flowVersion: number) {
    super(
      'flow-version-ahead',
      `Task ${taskId} was written by version ${recordVersion} of flow "${flowId}", but this page runs version ${flowVersion}. Reload the page to get the newer version; the task was kept as it is.`,
    );
  }
}

/** The record's flow version has no migration path to the current version; the record is quarantined. */
export class UnknownFlowVersionError extends TaskRecordError {
  override readonly name: string = 'UnknownFlowVersionError';
  constructor(flowId: string, taskId: string, recordVersion: number, oldest: number) {
    super(
      'unknown-flow-version',
      `Task ${taskId} was written by version ${recordVersion} of flow "${flowId}", older than the oldest version it can be migrated from (${oldest}). It was quarantined; start a new task.`,
    );
  }
}

/** A declared migration threw or produced a malformed record; the stored record is quarantined unchanged. */
export class MigrationFailedError extends TaskRecordError {
  override readonly name: string = 'MigrationFailedError';
  constructor(flowId: string, taskId: string, fromVersion: number, cause: unknown) {
    super(
      'migration-failed',
      `Task ${taskId}: the migration of flow "${flowId}" from version ${fromVersion} to ${fromVersion + 1} failed (${cause instanceof Error ? cause.message : String(cause)}). The stored record was quarantined unchanged; fix the migration, or start a new task.`,
      cause,
    );
  }
}

/** The record belongs to another flow; it is left untouched for that flow. */
export class ForeignFlowError extends TaskRecordError {
  override readonly name: string = 'ForeignFlowError';
  constructor(flowId: string, taskId: string, recordFlowId: string) {
    super(
      'foreign-flow',
      `Task ${taskId} belongs to flow "${recordFlowId}", not "${flowId}". The link was opened on the wrong page; open it where "${recordFlowId}" runs, or start a new "${flowId}" task.`,
    );
  }
}

type Compiled = CompiledFlow;
type NodeInfo = Compiled['model']['root'];

/** The state value of a step waiting for the user: nested by its ancestors, `$ready` (or `$choose` for a choice). */
function waitingAt(info: NodeInfo): unknown {
  let value: unknown = (info.node.kind === 'action' ? '$ready' : '$choose') satisfies Phase;
  for (let node: NodeInfo | null = info; node; node = node.parent) value = { [node.id]: value };
  return value;
}

function resolves(compiled: Compiled, record: TaskRecord): boolean {
  try {
    compiled.machine.resolveState({ value: record.snapshot.value as never, context: { ...record.snapshot.context, data: record.data } });
    return true;
  } catch {
    return false;
  }
}

/** Moves a record whose position the flow no longer has to the nearest surviving step. */
function relocate(compiled: Compiled, record: TaskRecord, steps: Record<string, string>, now: number): MigrationResult {
  const nodes = compiled.model.nodes;
  const from = positionOf(record.snapshot.value).step;
  const surviving = (id: string | null | undefined) => {
    const info = id == null ? undefined : nodes.get(id);
    return info && isStep(info.node) ? info : undefined;
  };
  let declared = from;
  for (let hops = 0; declared && steps[declared] && hops < 100; hops++) declared = steps[declared]!;
  const { trail: stored, at = stored.length - 1 } = record.snapshot.context;
  // Entries ahead of the current one (steps gone back from) are dropped: the position they were ahead of is gone.
  let trail: TrailEntry[] = stored.slice(0, at + 1).filter((entry) => surviving(entry.step));
  const visits = { ...record.snapshot.context.visits };
  let target = surviving(declared);
  if (target) {
    if (trail.at(-1)?.step !== target.id) {
      visits[target.id] = (visits[target.id] ?? 0) + 1;
      trail = [...trail, { step: target.id, visit: visits[target.id]!, data: record.data }];
    }
  } else if (trail.length > 0) {
    target = surviving(trail.at(-1)!.step)!;
  }
  let value: unknown;
  if (target) {
    value = waitingAt(target);
  } else {
    const start = compiled.machine.getInitialSnapshot(inert, { data: record.data, user: record.snapshot.context.user });
    value = start.value;
    trail = start.context.trail;
    for (const [id, count] of Object.entries(start.context.visits)) visits[id] = Math.max(count, visits[id] ?? 0);
  }
  const to = target?.id ?? positionOf(value).step ?? compiled.flow.id;
  return {
    record: {
      ...record,
      snapshot: { value, context: { ...record.snapshot.context, trail, at: trail.length - 1, visits, until: null } },
      history: [...record.history, { at: now, event: 'migrate', from, to, actor: null }],
    },
    changed: true,
    relocated: { from, to },
  };
}

/**
 * Makes a stored record fit the current definition of `flow`: runs the declared
 * migrations from the record's version up to the flow's, then, when the step it
 * points at no longer exists, resumes it at the nearest surviving step: the
 * step declared in `migrations.steps`, else the same step where it moved to,
 * else the last surviving step of its visited trail (prefilled with what was
 * entered), else the flow's first step. Data is never dropped.
 * Throws `ForeignFlowError`, `FlowVersionAheadError`, `UnknownFlowVersionError` or `MigrationFailedError`.
 * @example
 * const { record } = migrateRecord(signupFlow, stored, { versions: { 1: (r) => ({ ...r, data: { ...r.data, plan: 'free' } }) }, steps: { survey: 'confirm' } });
 * const task = await restoreTask(signupFlow, record, { store, binder });
 */
export function migrateRecord(flow: Flow, stored: TaskRecord, migrations: FlowMigrations = {}, now: number = Date.now()): MigrationResult {
  if (stored.flowId !== flow.id) throw new ForeignFlowError(flow.id, stored.id, stored.flowId);
  if (stored.flowVersion > flow.version) throw new FlowVersionAheadError(flow.id, stored.id, stored.flowVersion, flow.version);
  const oldest = migrations.oldest ?? 1;
  if (stored.flowVersion < oldest) throw new UnknownFlowVersionError(flow.id, stored.id, stored.flowVersion, oldest);
  let record = stored;
  for (let version = stored.flowVersion; version < flow.version; version++) {
    const migration = migrations.versions?.[version];
    try {
      record = { ...(migration ? migration(structuredClone(record)) : record), flowVersion: version + 1 };
      assertWritable(record, true);
    } catch (cause) {
      throw new MigrationFailedError(flow.id, stored.id, version, cause);
    }
    if (record.id !== stored.id || record.binder !== stored.binder || record.version !== stored.version) {
      throw new MigrationFailedError(flow.id, stored.id, version, new Error('a migration must not change id, binder or version'));
    }
  }
  const compiled = compile(flow);
  if (resolves(compiled, record)) return { record, changed: record !== stored, relocated: null };
  return relocate(compiled, record, migrations.steps ?? {}, now);
}
