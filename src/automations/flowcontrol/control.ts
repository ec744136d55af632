import type { Engine } from '../engine.ts';
import { MemoryFlowRunStore } from '../memory-storage.ts';
import { type Clock, systemClock } from '../time.ts';
import { type FlowEffect, type FlowEvent, flowEngine } from './engine.ts';
import { type FlowDefinition, FlowNotFoundError, type FlowRun, isFlowRunRunnable, MAX_HOT_LOOPS } from './flow.ts';

/** Which runs `FlowRunStoreTx.list` returns. */
export interface FlowRunQuery {
  flow?: string;
  /** Only pending and waiting runs. */
  unfinished?: boolean;
  /** Only the child runs of this run. */
  parentId?: string;
}

/** The operations on flow runs inside one transaction; a SQL implementation locks rows it reads with `get`. */
export interface FlowRunStoreTx {
  /** The run, locked for the rest of the transaction (`SELECT … FOR UPDATE`), or null. */
  get(id: string): Promise<FlowRun | null>;
  /** Inserts or replaces the run. */
  put(run: FlowRun): Promise<void>;
  /** Runs matching the query, oldest first. */
  list(query: FlowRunQuery): Promise<FlowRun[]>;
  /**
   * Ids of runs that can be executed at `now` (pending, or waiting with `continueAfter <= now`),
   * oldest first, at most `limit`. A store shared by several processes claims them for a while
   * and leaves out runs another process holds (`FOR UPDATE SKIP LOCKED`), so two processes
   * continuing runs at once never pick the same run.
   */
  runnable(now: number, limit: number): Promise<string[]>;
  /**
   * Serialises the limit checks of `flow` across processes until the transaction ends (an
   * advisory lock on SQL; nothing in memory, where transactions already run one at a time).
   */
  lockFlow(flow: string): Promise<void>;
}

/**
 * Where flow runs are kept. Creating a run (limit check and insert) and each step of a run
 * (read under lock, run one action, write) each happen in one transaction, so limits hold
 * under concurrency and a crash mid-action leaves the run as it was before that action.
 */
export interface FlowRunStore {
  transaction<T>(work: (tx: FlowRunStoreTx) => Promise<T>): Promise<T>;
}

/** A registered trigger, as django-flowcontrol's `register_trigger` declares it. */
export interface TriggerInfo {
  name: string;
  label: string;
  description: string;
}

/** Options for starting runs. */
export interface StartRunOptions {
  /** The object the run is bound to (per-object limits count by it). */
  objectId?: string;
  /** Initial run state. */
  state?: Record<string, unknown>;
  /** Execute at once instead of waiting for `continueFlowRuns`. */
  immediate?: boolean;
  /** The run that starts this one (django-flowcontrol's `parent_run`). */
  parentId?: string;
}

/** What one `continueFlowRunBatch` did: the runs it executed, as they ended up, and the actions that ran. */
export interface FlowRunBatch {
  runs: FlowRun[];
  /** Log entries added: each action run, and each `returnFromChildren`, with its directive. */
  actions: number;
}

/** Options of `new FlowControl`. */
export interface FlowControlOptions {
  flows?: FlowDefinition[];
  /** Where runs live; default a `MemoryFlowRunStore`. On a database: `sqlFlowRunStore` from `wayflow/server`. */
  store?: FlowRunStore;
  clock?: Clock;
  newId?: () => string;
  /** How often one action may run within one execution (default `MAX_HOT_LOOPS`, 100). */
  maxHotLoop?: number;
}

/**
 * Runs django-flowcontrol flows: creates runs within each flow's limits, starts every flow
 * registered for a trigger, executes (one transaction per action), cancels, and continues
 * runnable runs.
 */
export class FlowControl {
  private readonly flows = new Map<string, { flow: FlowDefinition; engine: Engine<FlowRun, FlowEvent, FlowEffect> }>();
  private readonly triggers = new Map<string, TriggerInfo>();
  private readonly store: FlowRunStore;
  private readonly clock: Clock;
  private readonly newId: () => string;
  private readonly maxHotLoop: number;

  constructor(options: FlowControlOptions = {}) {
    this.store = options.store ?? new MemoryFlowRunStore();
    this.clock = options.clock ?? systemClock;
    this.newId = options.newId ?? (() => crypto.randomUUID());
    this.maxHotLoop = options.maxHotLoop ?? MAX_HOT_LOOPS;
    for (const flow of options.flows ?? []) this.registerFlow(flow);
  }

  /** Registers (or replaces) a flow. */
  registerFlow(flow: FlowDefinition): void {
    this.flows.set(flow.name, { flow, engine: flowEngine(flow, { maxHotLoop: this.maxHotLoop }) });
  }

  /** Registers a trigger and returns the function that fires it. */
  registerTrigger(name: string, info: { label?: string; description?: string } = {}): (options?: StartRunOptions) => Promise<FlowRun[]> {
    this.triggers.set(name, { name, label: info.label ?? name, description: info.description ?? '' });
    return (options) => this.triggerFlows(name, options);
  }

  /** The registered triggers. */
  listTriggers(): TriggerInfo[] {
    return [...this.triggers.values()];
  }

  /** Starts a run of every flow registered for the trigger (limits allowing); returns the runs created. */
  async triggerFlows(trigger: string, options: StartRunOptions = {}): Promise<FlowRun[]> {
    const created: FlowRun[] = [];
    for (const { flow } of this.flows.values()) {
      if (!flow.triggers?.includes(trigger)) continue;
      const run = await this.createRun(flow.name, options, trigger);
      if (run) created.push(run);
    }
    return created;
  }

  /** Creates a run when the flow's limits allow it (else null); executes it when `immediate`. */
  async createRun(flowName: string, options: StartRunOptions = {}, trigger: string | null = null): Promise<FlowRun | null> {
    this.flow(flowName);
    const run = await this.store.transaction((tx) => this.insertRun(tx, flowName, options, trigger));
    if (!run) return null;
    return options.immediate ? this.execute(run.id) : run;
  }

  /** Creates a run (limits allowing) and executes it at once. */
  startRun(flowName: string, options: Omit<StartRunOptions, 'immediate'> = {}): Promise<FlowRun | null> {
    return this.createRun(flowName, { ...options, immediate: true });
  }

  /**
   * Executes the run until it finishes, suspends, aborts or fails: one transaction per action
   * (the run is read under lock, one action runs, the run is written). A crash mid-action
   * rolls that action's step back; the run continues from the last committed action.
   */
  async execute(runId: string): Promise<FlowRun> {
    return (await this.executeCounting(runId)).run;
  }

  /** Cancels a run that has not finished (its waiting parent, if any, becomes due). */
  cancel(runId: string): Promise<FlowRun> {
    return this.store.transaction(async (tx) => {
      const run = await tx.get(runId);
      if (!run) throw new FlowNotFoundError('run', runId);
      if (isUnfinished(run)) {
        const now = this.clock.now();
        run.status = 'cancelled';
        run.finishedAt = now;
        run.continueAfter = null;
        await tx.put(run);
        await this.wakeParent(tx, run, now);
      }
      return run;
    });
  }

  /**
   * Executes every run that can continue: pending ones, and waiting ones whose `continueAfter`
   * has passed (django's `continue_flowruns`). The runs are claimed first, so several processes
   * may call this at once on one database without executing a run twice. Returns the runs as
   * they ended up.
   */
  async continueFlowRuns(limit = 1000): Promise<FlowRun[]> {
    return (await this.continueFlowRunBatch(limit)).runs;
  }

  /**
   * `continueFlowRuns` that also counts the work done: `actions` is how many entries the
   * executions added to the runs' logs (each action run, and each `returnFromChildren`, with
   * its directive). Schedulers and `wayflow step` report it.
   */
  async continueFlowRunBatch(limit = 1000): Promise<FlowRunBatch> {
    const now = this.clock.now();
    const ids = await this.store.transaction((tx) => tx.runnable(now, limit));
    const batch: FlowRunBatch = { runs: [], actions: 0 };
    for (const id of ids) {
      const { run, actions } = await this.executeCounting(id);
      batch.runs.push(run);
      batch.actions += actions;
    }
    return batch;
  }

  /** The run with this id. */
  async get(runId: string): Promise<FlowRun> {
    const run = await this.store.transaction((tx) => tx.get(runId));
    if (!run) throw new FlowNotFoundError('run', runId);
    return run;
  }

  /** The child runs of a run (those it started with `ctx.startChild`), oldest first. */
  children(runId: string): Promise<FlowRun[]> {
    return this.store.transaction((tx) => tx.list({ parentId: runId }));
  }

  /** `execute`, counting the log entries its steps added. */
  private async executeCounting(runId: string): Promise<{ run: FlowRun; actions: number }> {
    let fresh = true;
    let actions = 0;
    for (;;) {
      const { run, moved, logged } = await this.store.transaction((tx) => this.stepIn(tx, runId, fresh));
      fresh = false;
      actions += logged;
      if (!moved || run.status !== 'pending') return { run, actions };
    }
  }

  /** One step of a run inside `tx`: lock, run one action through the flow's engine (children created in `tx`), write, perform its effects. */
  private async stepIn(tx: FlowRunStoreTx, runId: string, fresh: boolean): Promise<{ run: FlowRun; moved: boolean; logged: number }> {
    const run = await tx.get(runId);
    if (!run) throw new FlowNotFoundError('run', runId);
    const now = this.clock.now();
    if (!isFlowRunRunnable(run, now)) return { run, moved: false, logged: 0 };
    const { state: next, effects } = await this.registered(run.flow).engine.next(run, {
      type: 'tick',
      now,
      fresh,
      children: await tx.list({ parentId: run.id }),
      startChild: (flow, options = {}) => {
        this.flow(flow);
        return this.insertRun(tx, flow, { ...options, parentId: run.id }, null);
      },
    });
    await tx.put(next);
    for (const effect of effects) if (effect.type === 'finished') await this.wakeParent(tx, next, now);
    return { run: next, moved: true, logged: next.log.length - run.log.length };
  }

  /** A finished child makes its waiting parent due at once, so the parent sees the result without waiting out its suspension. */
  private async wakeParent(tx: FlowRunStoreTx, child: FlowRun, now: number): Promise<void> {
    if (child.parentId === null || child.parentId === undefined) return;
    const parent = await tx.get(child.parentId);
    if (parent?.status === 'waiting' && (parent.continueAfter === null || parent.continueAfter > now)) {
      await tx.put({ ...parent, continueAfter: now });
    }
  }

  /** The limit check and insert of a new run, inside `tx`; null when a limit forbids the run. */
  private async insertRun(tx: FlowRunStoreTx, flowName: string, options: StartRunOptions, trigger: string | null): Promise<FlowRun | null> {
    const flow = this.flow(flowName);
    const run: FlowRun = {
      id: this.newId(),
      flow: flowName,
      status: 'pending',
      position: [],
      resume: 'next',
      continueAfter: null,
      state: structuredClone(options.state ?? {}),
      objectId: options.objectId ?? null,
      trigger,
      createdAt: this.clock.now(),
      finishedAt: null,
      error: null,
      log: [],
      parentId: options.parentId ?? null,
      loops: {},
    };
    if (flow.maxConcurrent !== undefined || flow.maxConcurrentPerObject !== undefined) {
      await tx.lockFlow(flowName);
      const running = await tx.list({ flow: flowName, unfinished: true });
      if (flow.maxConcurrent !== undefined && running.length >= flow.maxConcurrent) return null;
      if (flow.maxConcurrentPerObject !== undefined && options.objectId !== undefined) {
        if (running.filter((r) => r.objectId === options.objectId).length >= flow.maxConcurrentPerObject) return null;
      }
    }
    await tx.put(run);
    return run;
  }

  private flow(name: string): FlowDefinition {
    return this.registered(name).flow;
  }

  private registered(name: string): { flow: FlowDefinition; engine: Engine<FlowRun, FlowEvent, FlowEffect> } {
    const entry = this.flows.get(name);
    if (!entry) throw new FlowNotFoundError('flow', name);
    return entry;
  }
}

function isUnfinished(run: FlowRun): boolean {
  return run.status === 'pending' || run.status === 'waiting';
}
