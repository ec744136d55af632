import type { TaskRecord, TaskSummary } from '../core/index.ts';
import type { FunnelView } from '../sync/index.ts';
import type { FunnelWindow } from './funnel/model.ts';

/**
 * The moment a read is made at. A task is live when the server's idle deadline
 * is after `server` (the server clock) and the record's own `expiresAt` is after
 * `client` (the time the caller reads at; it can only hide more, never reveal more).
 */
export interface ReadInstant {
  server: number;
  client: number;
}

/**
 * The outcome of a conditional write: done, refused with the version the writer can see
 * (null: none), or (a create) refused because the owner already holds `maxLive` live tasks.
 */
export type WriteResult = { ok: true } | { ok: false; current: number | null } | { ok: false; full: true };

/** A stored record as its JSON text (`TaskStorage.readJson`), and its version. */
export interface StoredJson {
  version: number;
  json: string;
}

/**
 * Where the server keeps task records. Rows are scoped by `owner` (the session
 * or user the server bound the caller to) and, inside it, by the record's
 * `binder`: a row of another owner is invisible, as if missing.
 * Every write is one conditional SQL statement: versions are checked by the
 * database, never by a read followed by a write.
 */
export interface TaskStorage {
  /** The live record, or null when missing, expired, or bound elsewhere; throws `CorruptTaskError` for a damaged row. */
  read(owner: string, id: string, binder: string, at: ReadInstant): Promise<TaskRecord | null>;
  /**
   * As `read`, but the record as JSON text (as `JSON.stringify` writes the record `read` gives), with its version: an
   * answer sends it as it is. A row the storage wrote itself is answered as stored, without parsing it. Optional: a
   * storage without it is read with `read`, and the record serialized.
   */
  readJson?(owner: string, id: string, binder: string, at: ReadInstant): Promise<StoredJson | null>;
  /**
   * Inserts a new task unless a live row with its id exists for this owner (a row idle at
   * `serverNow` is replaced). `idleUntil` is the server's idle deadline for the new row.
   * With `maxLive`, refuses (`full`) when the owner already has that many live tasks; the
   * count and the insert are serialised per owner, so concurrent creates cannot pass it.
   */
  create(owner: string, record: TaskRecord, idleUntil: number, serverNow: number, maxLive?: number): Promise<WriteResult>;
  /** Replaces the live record at version `expected` (same binder) with `record`; refuses otherwise. */
  update(owner: string, record: TaskRecord, expected: number, idleUntil: number, serverNow: number): Promise<WriteResult>;
  /** Deletes the task (only at version `expected` when given), keeping its outcome for funnels; resolves to false when nothing matched. */
  remove(owner: string, id: string, binder: string, expected?: number): Promise<boolean>;
  /** The owner's live tasks bound to `binder`, most recently active first. */
  list(owner: string, binder: string, at: ReadInstant): Promise<TaskSummary[]>;
  /** Deletes the owner's tasks that are expired at `at`, keeping their outcomes for funnels; resolves to how many. */
  sweepOwner(owner: string, at: ReadInstant): Promise<number>;
  /** Deletes every task whose idle deadline is at or before `serverNow` (the periodic sweep), keeping their outcomes for funnels. */
  sweepExpired(serverNow: number): Promise<number>;
  /** Deletes the outcomes (what funnels count of deleted tasks) of tasks that ended before `before`; resolves to how many. */
  forgetOutcomes(before: number): Promise<number>;
  /**
   * The funnels of flow `flowId` (one per flow version, newest first) over the tasks created in `window`, live and
   * ended (see `readFunnels`); `serverNow` decides which live tasks have expired.
   */
  funnels(flowId: string, window: FunnelWindow, serverNow: number): Promise<FunnelView[]>;
  /** Resolves when the database answers a query (the readiness check); rejects otherwise. */
  ping(): Promise<void>;
  /** A secret shared by every server process on this database, made on first use (signs session cookies). */
  secret(name: string): Promise<string>;
  /** Releases connections. */
  close(): Promise<void>;
}
