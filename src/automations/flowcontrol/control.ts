import { WayflowError } from '../../core/errors.ts';
import type { Engine } from '../engine.ts';
import { MemoryFlowRunStore } from '../memory-storage.ts';
import { type Clock, systemClock } from '../time.ts';
import { type FlowEffect, type FlowEvent, flowEngine } from './engine.ts';
import { actionPositions, type FlowDefinition, FlowInactiveError, FlowNotFoundError, type FlowRun, isFlowActive, isFlowRunRunnable, MAX_HOT_LOOPS } from './flow.ts';
import { assertFlowRunConsistent, FlowRunStateError } from './run-state.ts';
import { checkTriggerName, FlowTriggerNameError, flowTriggers, type TriggerInput } from './triggers.ts';

/** Which runs `FlowRunStoreTx.list` returns. */
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
  /** The type of object the trigger fires for (the seed's `model`), when declared. */
  objectType?: string;
}

/** A flow names an action that it has not, or has more than once, where one action is needed (a trigger's `resetTo`, `reset`'s `to`). */
export class FlowActionNameError extends WayflowError {
  override readonly name: string = 'FlowActionNameError';
  constructor(flow: string, actionName: string, found: number, where: string) {
    super(
      'flowcontrol-action-name',
      `Flow "${flow}": ${where} names action "${actionName}", which the flow has ${found === 0 ? 'not' : `${found} times`}. Name one action of the flow; give actions unique names to reset runs to them.`,
    );
  }
}

/** Options of `FlowControl.reset`. */
export interface ResetRunOptions {
  /** The name of the action to reset to: the run waits and runs it on the next continue pass. Without it the run starts over from its first action. */
  to?: string;
  /** Replaces the run's state. */
  state?: Record<string, unknown>;
}

/** Options for starting runs. */
export interface StartRunOptions {
  /** The object the run is bound to (per-object limits count by it). */
  objectId?: string;
  /** The type of that object (default the flow's `objectType`); a run for another type than the flow's is not created. */
  objectType?: string;
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
  /** Runs the store holds in an inconsistent state, which were not run (see `FlowRunStateError`). */
  refused: FlowRunStateError[];
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

  /**
   * Registers (or replaces) a flow. Its trigger names are checked (`FlowTriggerNameError`: empty,
   * too long, or twice in the flow), and each `resetTo` must name exactly one of its actions
   * (`FlowActionNameError`).
   */
  registerFlow(flow: FlowDefinition): void {
    const seen = new Set<string>();
    for (const trigger of flowTriggers(flow)) {
      checkTriggerName(trigger.name, `Flow "${flow.name}"`);
      if (seen.has(trigger.name)) throw new FlowTriggerNameError(trigger.name, `Flow "${flow.name}"`, 'duplicate');
      seen.add(trigger.name);
      if (trigger.resetTo !== undefined) positionOf(flow, trigger.resetTo, `trigger "${trigger.name}" (resetTo)`);
    }
    this.flows.set(flow.name, { flow, engine: flowEngine(flow, { maxHotLoop: this.maxHotLoop }) });
  }

  /**
   * Registers a trigger and returns the function that fires it (django-flowcontrol's
   * `register_trigger`; `objectType` is its `model`: the function fires for objects of that
   * type). The name must be new, not empty and at most `MAX_TRIGGER_NAME_LENGTH` characters
   * (`FlowTriggerNameError`).
   */
  registerTrigger(
    name: string,
    info: { label?: string; description?: string; objectType?: string } = {},
  ): (options?: StartRunOptions) => Promise<FlowRun[]> {
    checkTriggerName(name, 'registerTrigger');
    if (this.triggers.has(name)) throw new FlowTriggerNameError(name, 'registerTrigger', 'duplicate');
    const { objectType } = info;
    this.triggers.set(name, { name, label: info.label ?? name, description: info.description ?? '', ...(objectType !== undefined ? { objectType } : {}) });
    // The function fires for objects of the declared type unless told otherwise.
    return (options = {}) => this.triggerFlows(name, objectType !== undefined && options.objectId !== undefined ? { objectType, ...options } : options);
  }

  /** The registered triggers. */
  listTriggers(): TriggerInfo[] {
    return [...this.triggers.values()];
  }

  /**
   * Fires a trigger (django-flowcontrol's `trigger_flows`): runs waiting for it (`waitForTrigger`)
   * for this object (or with `requireObject: false`) continue with their next action; every flow
   * declaring it, whose trigger condition holds, gets a new run (limits allowing), or, for a
   * trigger with `resetTo`, its newest unfinished run (for this object) is reset to that action.
   * Returns the runs resumed, created and reset; with `immediate` they are executed first, else
   * they run on the next `continueFlowRuns`.
   */
  async triggerFlows(trigger: string, options: StartRunOptions = {}): Promise<FlowRun[]> {
    const input: TriggerInput = { objectId: options.objectId ?? null, objectType: options.objectType ?? null, state: options.state ?? {} };
    const touched = await this.resumeWaiting(trigger, input);
    const { immediate, ...create } = options;
    for (const { flow } of this.flows.values()) {
      if (!isFlowActive(flow, this.clock.now())) continue;
      for (const entry of flowTriggers(flow)) {
        if (entry.name !== trigger || !isFlowActive(entry, this.clock.now()) || (entry.condition && !entry.condition(input))) continue;
        const run = entry.resetTo !== undefined ? await this.resetNewest(flow, entry.resetTo, options, trigger) : await this.createRun(flow.name, create, trigger);
        if (run) touched.push(run);
      }
    }
    // A run resumed for the trigger may also be the one a resetTo entry reset: list it once, as it stands last.
    const unique = [...new Map(touched.map((run) => [run.id, run])).values()];
    if (!immediate) return unique;
    const executed: FlowRun[] = [];
    for (const run of unique) executed.push(await this.execute(run.id));
    return executed;
  }

  /** Makes the runs waiting for `trigger` (for this object, or not requiring one) due now; returns them. */
  private resumeWaiting(trigger: string, input: TriggerInput): Promise<FlowRun[]> {
    return this.store.transaction(async (tx) => {
      const now = this.clock.now();
      const resumed: FlowRun[] = [];
      for (const listed of await tx.list({ waitingTrigger: trigger })) {
        const run = await tx.get(listed.id);
        if (run?.status !== 'waiting' || run.waitingTrigger !== trigger) continue;
        if (run.continueAfter !== null && run.continueAfter > now) continue;
        if ((run.waitingTriggerMatchObject ?? true) && !sameObject(run, input)) continue;
        run.waitingTrigger = null;
        run.continueAfter = now;
        await tx.put(run);
        resumed.push(run);
      }
      return resumed;
    });
  }

  /** A `resetTo` trigger: resets the newest unfinished run of `flow` (for the fired object) to the action; null when there is none. */
  private resetNewest(flow: FlowDefinition, to: string, options: StartRunOptions, trigger: string): Promise<FlowRun | null> {
    return this.store.transaction(async (tx) => {
      await tx.lockFlow(flow.name);
      const unfinished = await tx.list({ flow: flow.name, unfinished: true, ...objectQuery(options) });
      const newest = unfinished.at(-1);
      if (!newest) return null;
      const run = resetRun(newest, positionOf(flow, to, `trigger "${trigger}" (resetTo)`), this.clock.now(), options.state);
      run.trigger = trigger;
      await tx.put(run);
      return run;
    });
  }

  /**
   * Resets a run (django-flowcontrol's `reset_flowrun`), finished or not: to the action named
   * `to` (the run waits, due now, and runs that action on the next continue pass), or without
   * `to` back to pending at its first action. `state` replaces its state. Its log is kept.
   */
  reset(runId: string, options: ResetRunOptions = {}): Promise<FlowRun> {
    return this.store.transaction(async (tx) => {
      const found = await tx.get(runId);
      if (!found) throw new FlowNotFoundError('run', runId);
      const position = options.to === undefined ? null : positionOf(this.flow(found.flow), options.to, 'reset');
      const run = resetRun(found, position, this.clock.now(), options.state);
      await tx.put(run);
      return run;
    });
  }

  /**
   * Creates a run when the flow's limits allow it (else null); executes it when `immediate`.
   * An inactive flow throws `FlowInactiveError`.
   */
  async createRun(flowName: string, options: StartRunOptions = {}, trigger: string | null = null): Promise<FlowRun | null> {
    this.activeFlow(flowName);
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

  /** Every run bound to the object, of every flow, finished ones too, oldest first (django-flowcontrol's `get_flowruns_for_object`). */
  runsForObject(objectId: string, objectType?: string): Promise<FlowRun[]> {
    return this.store.transaction((tx) => tx.list(objectQuery({ objectId, objectType })));
  }

  /**
   * Cancels every pending or waiting run bound to the object, of every flow (django-flowcontrol's
   * `cancel_flowruns_for_object`); without `objectType`, runs of any object type with that id.
   * Returns the runs cancelled; their waiting parents become due.
   */
  cancelRunsForObject(objectId: string, objectType?: string): Promise<FlowRun[]> {
    return this.store.transaction(async (tx) => {
      const now = this.clock.now();
      const cancelled: FlowRun[] = [];
      for (const listed of await tx.list({ unfinished: true, ...objectQuery({ objectId, objectType }) })) {
        const run = await tx.get(listed.id);
        if (!run || !isUnfinished(run)) continue;
        cancelled.push(await this.cancelIn(tx, run, now));
      }
      return cancelled;
    });
  }

  /** Cancels a run that has not finished (its waiting parent, if any, becomes due). */
  cancel(runId: string): Promise<FlowRun> {
    return this.store.transaction(async (tx) => {
      const run = await tx.get(runId);
      if (!run) throw new FlowNotFoundError('run', runId);
      return isUnfinished(run) ? this.cancelIn(tx, run, this.clock.now()) : run;
    });
  }

  private async cancelIn(tx: FlowRunStoreTx, run: FlowRun, now: number): Promise<FlowRun> {
    run.status = 'cancelled';
    run.finishedAt = now;
    run.continueAfter = null;
    run.waitingTrigger = null;
    await tx.put(run);
    await this.wakeParent(tx, run, now);
    return run;
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
    const batch: FlowRunBatch = { runs: [], actions: 0, refused: [] };
    for (const id of ids) {
      try {
        const { run, actions } = await this.executeCounting(id);
        batch.runs.push(run);
        batch.actions += actions;
      } catch (error) {
        // One broken record must not stop the others; it stays as it is for a person to reset or cancel.
        if (!(error instanceof FlowRunStateError) || error.runId !== id) throw error;
        batch.refused.push(error);
      }
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
      const immediate: string[] = [];
      const { run, moved, logged } = await this.store.transaction((tx) => this.stepIn(tx, runId, fresh, immediate));
      fresh = false;
      actions += logged;
      // Child runs started with `immediate` run now that the step that created them committed, before the parent's next action.
      for (const childId of immediate) actions += (await this.executeCounting(childId)).actions;
      if (!moved || run.status !== 'pending') return { run: immediate.length > 0 ? await this.get(runId) : run, actions };
    }
  }

  /**
   * One step of a run inside `tx`: lock, run one action through the flow's engine (children
   * created in `tx`; the ids of those to run at once are added to `immediate`), write, perform its effects.
   */
  private async stepIn(tx: FlowRunStoreTx, runId: string, fresh: boolean, immediate: string[]): Promise<{ run: FlowRun; moved: boolean; logged: number }> {
    const run = await tx.get(runId);
    if (!run) throw new FlowNotFoundError('run', runId);
    assertFlowRunConsistent(run);
    const now = this.clock.now();
    if (!isFlowRunRunnable(run, now)) return { run, moved: false, logged: 0 };
    const { state: next, effects } = await this.registered(run.flow).engine.next(run, {
      type: 'tick',
      now,
      fresh,
      children: await tx.list({ parentId: run.id }),
      startChild: async (flow, { immediate: atOnce, ...options } = {}) => {
        this.activeFlow(flow);
        const child = await this.insertRun(tx, flow, { ...options, parentId: run.id }, null);
        if (child && atOnce) immediate.push(child.id);
        return child;
      },
    });
    await tx.put(next);
    for (const effect of effects) if (effect.type === 'finished') await this.wakeParent(tx, next, now);
    return { run: next, moved: true, logged: next.log.length - run.log.length };
  }

  /**
   * A finished child makes its waiting parent due at once, so the parent sees the result without
   * waiting out its suspension. A parent waiting for a trigger keeps waiting for it.
   */
  private async wakeParent(tx: FlowRunStoreTx, child: FlowRun, now: number): Promise<void> {
    if (child.parentId === null || child.parentId === undefined) return;
    const parent = await tx.get(child.parentId);
    if (parent?.status === 'waiting' && parent.continueAfter !== null && parent.continueAfter > now) {
      await tx.put({ ...parent, continueAfter: now });
    }
  }

  /**
   * The limit check and insert of a new run, inside `tx`; null when a limit forbids the run or
   * the object is not of the flow's type (django-flowcontrol's `create_flowrun`).
   */
  private async insertRun(tx: FlowRunStoreTx, flowName: string, options: StartRunOptions, trigger: string | null): Promise<FlowRun | null> {
    const flow = this.flow(flowName);
    const objectId = options.objectId ?? null;
    const objectType = objectId === null ? null : (options.objectType ?? flow.objectType ?? null);
    if (objectId !== null && flow.objectType !== undefined && objectType !== flow.objectType) return null;
    const run: FlowRun = {
      id: this.newId(),
      flow: flowName,
      status: 'pending',
      position: [],
      resume: 'next',
      continueAfter: null,
      state: structuredClone(options.state ?? {}),
      objectId,
      objectType,
      trigger,
      createdAt: this.clock.now(),
      finishedAt: null,
      error: null,
      log: [],
      parentId: options.parentId ?? null,
      loops: {},
    };
    const maxConcurrent = flow.maxConcurrent ?? 0;
    const perObject = objectId === null ? 0 : (flow.maxConcurrentPerObject ?? 1);
    const maxPerObject = objectId === null ? 0 : (flow.maxPerObject ?? 0);
    if (maxConcurrent > 0 || perObject > 0 || maxPerObject > 0) {
      await tx.lockFlow(flowName);
      if (maxConcurrent > 0 && (await tx.list({ flow: flowName, unfinished: true })).length >= maxConcurrent) return null;
      if (perObject > 0 || maxPerObject > 0) {
        const forObject = await tx.list({ flow: flowName, ...objectQuery({ objectId: objectId ?? undefined, objectType: objectType ?? undefined }) });
        if (maxPerObject > 0 && forObject.length >= maxPerObject) return null;
        if (perObject > 0 && forObject.filter(isUnfinished).length >= perObject) return null;
      }
    }
    await tx.put(run);
    return run;
  }

  /** The registered flow, which must be active now (`FlowInactiveError`). */
  private activeFlow(name: string): FlowDefinition {
    const flow = this.flow(name);
    if (!isFlowActive(flow, this.clock.now())) throw new FlowInactiveError(name, flow.activeAt ?? null);
    return flow;
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

/**
 * Whether the run is bound to the object a trigger fired for (both without object counts too).
 * An object is matched by its id, and by its type when the firing gives one.
 */
function sameObject(run: FlowRun, input: Pick<TriggerInput, 'objectId' | 'objectType'>): boolean {
  if ((run.objectId ?? null) !== input.objectId) return false;
  return input.objectId === null || input.objectType === null || (run.objectType ?? null) === input.objectType;
}

/** The `FlowRunQuery` part selecting runs bound to an object (by id, and by type when given); none without an id. */
function objectQuery(object: { objectId?: string | undefined; objectType?: string | undefined }): Pick<FlowRunQuery, 'objectId' | 'objectType'> {
  if (object.objectId === undefined) return {};
  return { objectId: object.objectId, ...(object.objectType !== undefined ? { objectType: object.objectType } : {}) };
}

/** The index path of the one action named `name`; `FlowActionNameError` when there is none or more than one. */
function positionOf(flow: FlowDefinition, name: string, where: string): number[] {
  const found = actionPositions(flow, name);
  if (found.length !== 1) throw new FlowActionNameError(flow.name, name, found.length, where);
  return found[0] as number[];
}

/** A copy of `found` reset to `position` (waiting, due now, to run that action) or, with null, to its start (pending). */
function resetRun(found: FlowRun, position: number[] | null, now: number, state: Record<string, unknown> | undefined): FlowRun {
  const run = structuredClone(found);
  run.status = position ? 'waiting' : 'pending';
  run.position = position ?? [];
  run.resume = position ? 'repeat' : 'next';
  run.continueAfter = position ? now : null;
  run.finishedAt = null;
  run.error = null;
  run.waitingTrigger = null;
  run.loops = {};
  if (state !== undefined) run.state = structuredClone(state);
  return run;
}

function isUnfinished(run: FlowRun): boolean {
  return run.status === 'pending' || run.status === 'waiting';
}
