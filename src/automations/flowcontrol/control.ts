import { MemoryAutomationStorage } from '../memory-storage.ts';
import { AutomationRunner } from '../runner.ts';
import type { AutomationStorage } from '../storage.ts';
import type { Clock } from '../time.ts';
import { type FlowDefinition, FlowNotFoundError, type FlowRun, isFlowActive } from './flow.ts';
import type { FlowRunStateError } from './run-state.ts';
import { type FlowRunSteps, isUnfinished, objectQuery, positionOf, type StartRunOptions } from './runs.ts';
import { checkTriggerName, FlowTriggerNameError, flowTriggers, type TriggerInput } from './triggers.ts';

/** A registered trigger, as django-flowcontrol's `register_trigger` declares it. */
export interface TriggerInfo {
  name: string;
  label: string;
  description: string;
  /** The type of object the trigger fires for (the seed's `model`), when declared. */
  objectType?: string;
}

/** Options of `FlowControl.reset`. */
export interface ResetRunOptions {
  /** The name of the action to reset to: the run waits and runs it on the next continue pass. Without it the run starts over from its first action. */
  to?: string;
  /** Replaces the run's state. */
  state?: Record<string, unknown>;
}

/** What one `continueFlowRunBatch` did: the runs it executed, as they ended up, and the actions that ran (the flow part of the runner's `SchedulerPass`). */
export interface FlowRunBatch {
  runs: FlowRun[];
  /** Log entries added: each action run, and each `returnFromChildren`, with its directive. */
  actions: number;
  /** Runs the store holds in an inconsistent state, which were not run (see `FlowRunStateError`). */
  refused: FlowRunStateError[];
}

/** Options of `new FlowControl`: a runner to drive the runs (the scheduler's, in a runtime), or a storage to make one on. */
export interface FlowControlOptions {
  flows?: FlowDefinition[];
  /**
   * The runner whose scheduler pass continues the runs, with the automation instances on its
   * storage. Without it, `FlowControl` makes its own (flows only) on `store`.
   */
  runner?: AutomationRunner;
  /** Where runs live when no `runner` is given; default a `MemoryAutomationStorage`. On a database: `sqlAutomationStorage` from `wayflow/server`. */
  store?: AutomationStorage;
  /** Without `runner`: the clock (default the system clock). */
  clock?: Clock;
  /** Without `runner`: makes run ids (default `crypto.randomUUID`). */
  newId?: () => string;
  /** Without `runner`: how often one action may run within one execution (default `MAX_HOT_LOOPS`, 100). */
  maxHotLoop?: number;
}

/**
 * The django-flowcontrol API over the one automation runner: creates runs within each flow's
 * limits, starts every flow registered for a trigger, executes, resets, cancels, and continues
 * runnable runs. Runs live in the runner's storage beside the automation instances; the
 * runner's scheduler pass (`stepAll`, the scheduler, `wayflow step`) continues them in the same
 * groups and transactions as instances. `execute` (and `immediate`) commits each action on its
 * own, so a crash mid-action repeats only that action.
 */
export class FlowControl {
  private readonly triggers = new Map<string, TriggerInfo>();
  /** The runner that continues the runs. */
  readonly runner: AutomationRunner;
  private readonly steps: FlowRunSteps;
  private readonly store: AutomationStorage;

  constructor(options: FlowControlOptions = {}) {
    this.runner =
      options.runner ??
      new AutomationRunner({
        storage: options.store ?? new MemoryAutomationStorage(),
        ...(options.clock ? { clock: options.clock } : {}),
        ...(options.newId ? { newId: options.newId } : {}),
        ...(options.maxHotLoop !== undefined ? { maxHotLoop: options.maxHotLoop } : {}),
      });
    this.steps = this.runner.flows;
    this.store = this.runner.storage;
    for (const flow of options.flows ?? []) this.registerFlow(flow);
  }

  private get clock(): Clock {
    return this.runner.clock;
  }

  /**
   * Registers (or replaces) a flow. Its trigger names are checked (`FlowTriggerNameError`: empty,
   * too long, or twice in the flow), and each `resetTo` must name exactly one of its actions
   * (`FlowActionNameError`).
   */
  registerFlow(flow: FlowDefinition): void {
    this.steps.register(flow);
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
    for (const flow of this.steps.all()) {
      if (!isFlowActive(flow, this.clock.now())) continue;
      for (const entry of flowTriggers(flow)) {
        if (entry.name !== trigger || !isFlowActive(entry, this.clock.now()) || (entry.condition && !entry.condition(input))) continue;
        const run = entry.resetTo !== undefined ? await this.resetNewest(flow, entry.resetTo, options, trigger) : await this.insert(flow.name, create, trigger, immediate === true);
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
      for (const listed of await tx.listRuns({ waitingTrigger: trigger })) {
        const run = await tx.getRun(listed.id);
        if (run?.status !== 'waiting' || run.waitingTrigger !== trigger) continue;
        if (run.continueAfter !== null && run.continueAfter > now) continue;
        if ((run.waitingTriggerMatchObject ?? true) && !sameObject(run, input)) continue;
        run.waitingTrigger = null;
        run.continueAfter = now;
        await tx.putRun(run);
        resumed.push(run);
      }
      return resumed;
    });
  }

  /** A `resetTo` trigger: resets the newest unfinished run of `flow` (for the fired object) to the action; null when there is none. */
  private resetNewest(flow: FlowDefinition, to: string, options: StartRunOptions, trigger: string): Promise<FlowRun | null> {
    return this.store.transaction(async (tx) => {
      await tx.lockFlow(flow.name);
      const unfinished = await tx.listRuns({ flow: flow.name, unfinished: true, ...objectQuery(options) });
      const newest = unfinished.at(-1);
      if (!newest) return null;
      const run = resetRun(newest, positionOf(flow, to, `trigger "${trigger}" (resetTo)`), this.clock.now(), options.state);
      run.trigger = trigger;
      await tx.putRun(run);
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
      const found = await tx.getRun(runId);
      if (!found) throw new FlowNotFoundError('run', runId);
      const position = options.to === undefined ? null : positionOf(this.steps.flow(found.flow), options.to, 'reset');
      const run = resetRun(found, position, this.clock.now(), options.state);
      await tx.putRun(run);
      return run;
    });
  }

  /**
   * Creates a run when the flow's limits allow it (else null); executes it when `immediate`.
   * An inactive flow throws `FlowInactiveError`.
   */
  async createRun(flowName: string, options: StartRunOptions = {}, trigger: string | null = null): Promise<FlowRun | null> {
    const run = await this.insert(flowName, options, trigger, options.immediate === true);
    if (!run) return null;
    return options.immediate ? this.execute(run.id) : run;
  }

  /** Creates a run (limits allowing); `executing`: it is executed right after, so schedulers leave it to this process. */
  private insert(flowName: string, options: StartRunOptions, trigger: string | null, executing: boolean): Promise<FlowRun | null> {
    this.steps.activeFlow(flowName);
    return this.store.transaction((tx) => this.steps.insertRun(tx, flowName, options, trigger, executing));
  }

  /** Creates a run (limits allowing) and executes it at once. */
  startRun(flowName: string, options: Omit<StartRunOptions, 'immediate'> = {}): Promise<FlowRun | null> {
    return this.createRun(flowName, { ...options, immediate: true });
  }

  /**
   * Executes the run until it finishes, suspends, aborts or fails: one transaction per action
   * (the run is read under lock, one action runs, the run is written). A crash mid-action
   * rolls that action's step back; the run continues from the last committed action. Between
   * its actions the run is claimed, so schedulers leave it to this call; after a crash they
   * continue it once the claim times out (`claimTimeoutMs` of the SQL storage).
   */
  async execute(runId: string): Promise<FlowRun> {
    return (await this.executeCounting(runId)).run;
  }

  /** Every run bound to the object, of every flow, finished ones too, oldest first (django-flowcontrol's `get_flowruns_for_object`). */
  runsForObject(objectId: string, objectType?: string): Promise<FlowRun[]> {
    return this.store.transaction((tx) => tx.listRuns(objectQuery({ objectId, objectType })));
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
      for (const listed of await tx.listRuns({ unfinished: true, ...objectQuery({ objectId, objectType }) })) {
        const run = await tx.getRun(listed.id);
        if (!run || !isUnfinished(run)) continue;
        cancelled.push(await this.steps.cancelIn(tx, run, now));
      }
      return cancelled;
    });
  }

  /** Cancels a run that has not finished (its waiting parent, if any, becomes due). */
  cancel(runId: string): Promise<FlowRun> {
    return this.store.transaction(async (tx) => {
      const run = await tx.getRun(runId);
      if (!run) throw new FlowNotFoundError('run', runId);
      return isUnfinished(run) ? this.steps.cancelIn(tx, run, this.clock.now()) : run;
    });
  }

  /**
   * Executes every run that can continue: pending ones, and waiting ones whose `continueAfter`
   * has passed (django's `continue_flowruns`). This is a scheduler pass of the runner
   * (`schedulerPass`): the runs are claimed with the runner's due automation instances, which
   * move too, `groupSize` per transaction, so several processes may call this at once on one
   * database without executing a run twice. Returns the runs as they ended up.
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
    const { runs, actions, refused } = await this.runner.schedulerPass(limit);
    return { runs, actions, refused };
  }

  /** The run with this id. */
  async get(runId: string): Promise<FlowRun> {
    const run = await this.store.transaction((tx) => tx.getRun(runId));
    if (!run) throw new FlowNotFoundError('run', runId);
    return run;
  }

  /** The child runs of a run (those it started with `ctx.startChild`), oldest first. */
  children(runId: string): Promise<FlowRun[]> {
    return this.store.transaction((tx) => tx.listRuns({ parentId: runId }));
  }

  /** `execute`: one transaction per step; child runs started with `immediate` run once the step that created them committed, before the parent's next action. */
  private async executeCounting(runId: string): Promise<{ run: FlowRun; actions: number }> {
    let fresh = true;
    let actions = 0;
    for (;;) {
      const immediate: string[] = [];
      const { run, moved, logged } = await this.store.transaction((tx) => this.steps.stepIn(tx, runId, fresh, immediate, true));
      fresh = false;
      actions += logged;
      for (const childId of immediate) actions += (await this.executeCounting(childId)).actions;
      if (!moved || run.status !== 'pending') return { run: immediate.length > 0 ? await this.get(runId) : run, actions };
    }
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
