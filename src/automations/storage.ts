import type { FlowRun } from './flowcontrol/flow.ts';
import type { AutomationData } from './nodes/nodes.ts';
import type { HistoryChange, HistoryRow, InstanceState, MessageAddress } from './state.ts';

/** An instance as stored: its engine state plus the columns the storage indexes. */
export interface InstanceRecord extends InstanceState {
  /**
   * Uniqueness key (`unique` automations): at most one record may hold a given non-null
   * value. Singletons release it when they finish; data-key uniqueness keeps it.
   */
  uniqueKey: string | null;
  /** The durable timer: when the scheduler should next look at the instance (null: only an outside event can move it). */
  dueAt: number | null;
  updatedAt: number;
}

/** A message waiting in the outbox for delivery (written in the same transaction as the step that sent it). */
export interface QueuedMessage {
  id: string;
  to: MessageAddress;
  message: string;
  token?: string;
  payload: AutomationData;
  createdAt: number;
  from?: { instanceId: string; node: string; taskId: number };
  /** Broadcasts only: instances already served, so a crash mid-broadcast never delivers twice. */
  deliveredTo?: string[];
  /** Set when delivery failed for good (no receiver, finished target, missing data); such messages are kept, not retried. */
  error?: string;
}

/** Filter for listing instances. */
export interface InstanceQuery {
  automation?: string;
  finished?: boolean;
}

/** Which flow runs `AutomationStorageTx.listRuns` returns. */
export interface FlowRunQuery {
  flow?: string;
  /** Only pending and waiting runs. */
  unfinished?: boolean;
  /** Only the child runs of this run. */
  parentId?: string;
  /** Only runs waiting for this trigger (`waitForTrigger`). */
  waitingTrigger?: string;
  /** Only runs bound to this object id. */
  objectId?: string;
  /** Only runs bound to an object of this type. */
  objectType?: string;
}

/** The work a runner can do, for `dueInstances`: the automations and flows it has definitions of. */
export interface DueScope {
  automations: readonly string[];
  flows: readonly string[];
}

/**
 * The operations of one storage transaction. A SQL implementation runs them inside one
 * database transaction: `getInstance` takes a row lock (`SELECT … FOR UPDATE`) and
 * `dueInstances` skips locked rows (`FOR UPDATE SKIP LOCKED`), so two schedulers never
 * process the same instance at once.
 */
export interface AutomationStorageTx {
  /** Inserts a new instance; if its `uniqueKey` is taken, inserts nothing and returns the holder. */
  insertInstance(record: InstanceRecord): Promise<InstanceRecord | null>;
  /** The instance (locked for the rest of the transaction), or null. */
  getInstance(id: string): Promise<InstanceRecord | null>;
  /** The instance with this URL key, or null. */
  getInstanceByKey(key: string): Promise<InstanceRecord | null>;
  /** Replaces the stored instance. */
  putInstance(record: InstanceRecord): Promise<void>;
  /** Deletes the instance and its history; false when there was none. */
  deleteInstance(id: string): Promise<boolean>;
  /** Instances matching the query, oldest first. */
  listInstances(query: InstanceQuery): Promise<InstanceRecord[]>;
  /**
   * Ids of unfinished instances and flow runs with a due time `<= now` (a flow run's is
   * `flowRunDueAt`), earliest first (ties in insertion order), at most `limit`; with `scope`, only
   * instances and runs of those automations and flows. A storage shared by several schedulers
   * claims them for a while and leaves out those another scheduler holds (locked, or claimed);
   * it hands them out again if that one died. `getRun` tells a run's id from an instance's.
   */
  dueInstances(now: number, limit: number, scope?: DueScope): Promise<string[]>;
  /** The flow run (locked for the rest of the transaction), or null (no such run, or the id of an automation instance). */
  getRun(id: string): Promise<FlowRun | null>;
  /**
   * Inserts or replaces the flow run; its due time is `flowRunDueAt(run)`. `executing`: this
   * process goes on executing the pending run in its next transaction (`immediate`, or
   * `FlowControl.execute` between actions); a shared storage keeps other schedulers off it (a
   * claim) until a write without it, or until the claim times out if this process dies first.
   */
  putRun(run: FlowRun, options?: { executing?: boolean }): Promise<void>;
  /** Flow runs matching the query, oldest first. */
  listRuns(query: FlowRunQuery): Promise<FlowRun[]>;
  /**
   * Serialises the limit checks of `flow` across processes until the transaction ends (an
   * advisory lock on SQL; nothing in memory, where transactions already run one at a time).
   */
  lockFlow(flow: string): Promise<void>;
  /**
   * Runs `work`, code of the automation's author (node functions, receivers, flow actions), in
   * this transaction: the SQL storage makes its database transaction reachable from it
   * (`automationTransaction()`) while it runs. Absent where there is nothing to reach.
   */
  runCode?<T>(work: () => Promise<T>): Promise<T>;
  /** Opens and closes history rows. */
  applyHistory(changes: readonly HistoryChange[]): Promise<void>;
  /** The instance's history rows in task order. */
  history(instanceId: string): Promise<HistoryRow[]>;
  /** Adds a message to the outbox. */
  enqueueMessage(message: QueuedMessage): Promise<void>;
  /** Undelivered, unfailed messages, oldest first, at most `limit`; a shared storage locks them for the transaction, skipping locked ones. */
  pendingMessages(limit: number): Promise<QueuedMessage[]>;
  /** Messages whose delivery failed for good, oldest first, at most `limit`. */
  failedMessages(limit: number): Promise<QueuedMessage[]>;
  /** Removes a delivered message. */
  deleteMessage(id: string): Promise<void>;
  /** Marks a message as undeliverable, keeping it for inspection. */
  failMessage(id: string, error: string): Promise<void>;
  /** Deletes instances finished before `before`, with their history; returns how many of each. */
  deleteFinishedBefore(before: number): Promise<{ automations: number; tasks: number }>;
}

/**
 * Where automation instances, flowcontrol runs, history, the message outbox and due timers
 * live: the one storage of the three workflow models. Every engine step runs in one `transaction`: either all its writes (state, history rows,
 * queued messages, the next due time) commit, or none do.
 */
export interface AutomationStorage {
  transaction<T>(work: (tx: AutomationStorageTx) => Promise<T>): Promise<T>;
  /**
   * Optional: whether messages may wait in the outbox, read outside a transaction. `false` must
   * mean that `pendingMessages` would have found none at that moment; `true` may be wrong (the
   * message is held by another scheduler). The scheduler pass skips its outbox transaction on
   * `false`: where a transaction costs round trips, a pass with an empty outbox saves them.
   */
  mayHavePendingMessages?(): Promise<boolean>;
}
