import { WayflowError } from '../../core/index.ts';
import type { Engine } from '../engine.ts';
import type { AutomationStorageTx, FlowRunQuery } from '../storage.ts';
import type { Clock } from '../time.ts';
import { type FlowEffect, type FlowEvent, flowEngine } from './engine.ts';
import { actionPositions, type FlowDefinition, FlowInactiveError, FlowNotFoundError, type FlowRun, isFlowActive, isFlowRunRunnable } from './flow.ts';
import { assertFlowRunConsistent } from './run-state.ts';
import { checkTriggerName, FlowTriggerNameError, flowTriggers } from './triggers.ts';

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

/** What one step of a run did inside a transaction. */
export interface FlowStep {
  run: FlowRun;
  /** Whether an action ran (false: the run was not runnable). */
  moved: boolean;
  /** Log entries the step added (the action, and each `returnFromChildren`). */
  logged: number;
}

/**
 * The flowcontrol model inside the one runner: the registered flows compiled to the engine
 * contract (`flowEngine`), and the operations on runs inside a storage transaction that the
 * runner's scheduler pass and `FlowControl` share: the limit check and insert of a new run,
 * one step (children created in the step's transaction), a whole execution, cancelling, and
 * waking a waiting parent.
 */
export class FlowRunSteps {
  private readonly flows = new Map<string, { flow: FlowDefinition; engine: Engine<FlowRun, FlowEvent, FlowEffect> }>();

  constructor(
    private readonly clock: Clock,
    private readonly newId: () => string,
    private readonly maxHotLoop: number,
  ) {}

  /**
   * Registers (or replaces) a flow. Its trigger names are checked (`FlowTriggerNameError`: empty,
   * too long, or twice in the flow), and each `resetTo` must name exactly one of its actions
   * (`FlowActionNameError`).
   */
  register(flow: FlowDefinition): void {
    const seen = new Set<string>();
    for (const trigger of flowTriggers(flow)) {
      checkTriggerName(trigger.name, `Flow "${flow.name}"`);
      if (seen.has(trigger.name)) throw new FlowTriggerNameError(trigger.name, `Flow "${flow.name}"`, 'duplicate');
      seen.add(trigger.name);
      if (trigger.resetTo !== undefined) positionOf(flow, trigger.resetTo, `trigger "${trigger.name}" (resetTo)`);
    }
    this.flows.set(flow.name, { flow, engine: flowEngine(flow, { maxHotLoop: this.maxHotLoop }) });
  }

  /** The names of the registered flows. */
  names(): string[] {
    return [...this.flows.keys()];
  }

  /** The registered flows. */
  all(): FlowDefinition[] {
    return [...this.flows.values()].map((entry) => entry.flow);
  }

  has(name: string): boolean {
    return this.flows.has(name);
  }

  /** The registered flow (`FlowNotFoundError`). */
  flow(name: string): FlowDefinition {
    const entry = this.flows.get(name);
    if (!entry) throw new FlowNotFoundError('flow', name);
    return entry.flow;
  }

  /** The registered flow, which must be active now (`FlowInactiveError`). */
  activeFlow(name: string): FlowDefinition {
    const flow = this.flow(name);
    if (!isFlowActive(flow, this.clock.now())) throw new FlowInactiveError(name, flow.activeAt ?? null);
    return flow;
  }

  /**
   * Executes the run inside `tx` until it finishes, suspends, aborts or fails; child runs started
   * with `immediate` run in `tx` right after the step that created them, before the parent's next
   * action. Resolves to the run as it ended up and the log entries added (children's included).
   */
  async executeIn(tx: AutomationStorageTx, runId: string): Promise<{ run: FlowRun; actions: number }> {
    let fresh = true;
    let actions = 0;
    for (;;) {
      const immediate: string[] = [];
      const step = await this.stepIn(tx, runId, fresh, immediate, false);
      fresh = false;
      actions += step.logged;
      for (const childId of immediate) actions += (await this.executeIn(tx, childId)).actions;
      if (!step.moved || step.run.status !== 'pending') {
        return { run: immediate.length > 0 ? ((await tx.getRun(runId)) ?? step.run) : step.run, actions };
      }
    }
  }

  /**
   * One step of a run inside `tx`: lock, run one action through the flow's engine (children
   * created in `tx`; the ids of those to run at once are added to `immediate`), write, wake
   * the waiting parent of a run that finished. `executing`: the run's next step is another
   * transaction of this process (`FlowControl.execute`), so a run left pending stays claimed (`putRun`).
   */
  async stepIn(tx: AutomationStorageTx, runId: string, fresh: boolean, immediate: string[], executing: boolean): Promise<FlowStep> {
    const run = await tx.getRun(runId);
    if (!run) throw new FlowNotFoundError('run', runId);
    assertFlowRunConsistent(run);
    const now = this.clock.now();
    if (!isFlowRunRunnable(run, now)) return { run, moved: false, logged: 0 };
    const entry = this.flows.get(run.flow);
    if (!entry) throw new FlowNotFoundError('flow', run.flow);
    const children = await tx.listRuns({ parentId: run.id });
    const tick = () =>
      entry.engine.next(run, {
        type: 'tick',
        now,
        fresh,
        children,
        startChild: async (flow, { immediate: atOnce, ...options } = {}) => {
          this.activeFlow(flow);
          const child = await this.insertRun(tx, flow, { ...options, parentId: run.id }, null, atOnce === true);
          if (child && atOnce) immediate.push(child.id);
          return child;
        },
      });
    const { state: next, effects } = await (tx.runCode ? tx.runCode(tick) : tick());
    await tx.putRun(next, { executing: executing && next.status === 'pending' });
    for (const effect of effects) if (effect.type === 'finished') await this.wakeParent(tx, next, now);
    return { run: next, moved: true, logged: next.log.length - run.log.length };
  }

  /** Cancels an unfinished run inside `tx`; its waiting parent, if any, becomes due. */
  async cancelIn(tx: AutomationStorageTx, run: FlowRun, now: number): Promise<FlowRun> {
    run.status = 'cancelled';
    run.finishedAt = now;
    run.continueAfter = null;
    run.waitingTrigger = null;
    await tx.putRun(run);
    await this.wakeParent(tx, run, now);
    return run;
  }

  /**
   * A finished child makes its waiting parent due at once, so the parent sees the result without
   * waiting out its suspension. A parent waiting for a trigger keeps waiting for it.
   */
  private async wakeParent(tx: AutomationStorageTx, child: FlowRun, now: number): Promise<void> {
    if (child.parentId === null || child.parentId === undefined) return;
    const parent = await tx.getRun(child.parentId);
    if (parent?.status === 'waiting' && parent.continueAfter !== null && parent.continueAfter > now) {
      await tx.putRun({ ...parent, continueAfter: now });
    }
  }

  /**
   * The limit check and insert of a new run, inside `tx`; null when a limit forbids the run or
   * the object is not of the flow's type (django-flowcontrol's `create_flowrun`). `executing`:
   * this process executes the run right after (`immediate`), so schedulers leave it alone (`putRun`).
   */
  async insertRun(tx: AutomationStorageTx, flowName: string, options: StartRunOptions, trigger: string | null, executing = false): Promise<FlowRun | null> {
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
      if (maxConcurrent > 0 && (await tx.listRuns({ flow: flowName, unfinished: true })).length >= maxConcurrent) return null;
      if (perObject > 0 || maxPerObject > 0) {
        const forObject = await tx.listRuns({ flow: flowName, ...objectQuery({ objectId: objectId ?? undefined, objectType: objectType ?? undefined }) });
        if (maxPerObject > 0 && forObject.length >= maxPerObject) return null;
        if (perObject > 0 && forObject.filter(isUnfinished).length >= perObject) return null;
      }
    }
    await tx.putRun(run, { executing });
    return run;
  }
}

/** The `FlowRunQuery` part selecting runs bound to an object (by id, and by type when given); none without an id. */
export function objectQuery(object: { objectId?: string | undefined; objectType?: string | undefined }): Pick<FlowRunQuery, 'objectId' | 'objectType'> {
  if (object.objectId === undefined) return {};
  return { objectId: object.objectId, ...(object.objectType !== undefined ? { objectType: object.objectType } : {}) };
}

/** The index path of the one action named `name`; `FlowActionNameError` when there is none or more than one. */
export function positionOf(flow: FlowDefinition, name: string, where: string): number[] {
  const found = actionPositions(flow, name);
  if (found.length !== 1) throw new FlowActionNameError(flow.name, name, found.length, where);
  return found[0] as number[];
}

/** Whether the run is one `listRuns(query)` returns (the storages' one reading of a `FlowRunQuery`). */
export function matchesRunQuery(run: FlowRun, query: FlowRunQuery): boolean {
  return (
    (query.flow === undefined || run.flow === query.flow) &&
    (!query.unfinished || isUnfinished(run)) &&
    (query.parentId === undefined || run.parentId === query.parentId) &&
    (query.waitingTrigger === undefined || (run.status === 'waiting' && run.waitingTrigger === query.waitingTrigger)) &&
    (query.objectId === undefined || run.objectId === query.objectId) &&
    (query.objectType === undefined || run.objectType === query.objectType)
  );
}

/** Whether the run has not finished (pending or waiting). */
export function isUnfinished(run: FlowRun): boolean {
  return run.status === 'pending' || run.status === 'waiting';
}
