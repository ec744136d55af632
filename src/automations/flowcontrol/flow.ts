import { type DirectiveMove, directiveMove, MAX_HOT_LOOPS, type TreeNode } from '../../core/shared.ts';
import { WayflowError } from '../../core/index.ts';
import { describeError, describeValue } from '../errors.ts';
import { assertFlowRunConsistent } from './run-state.ts';
import { type FlowTrigger, MAX_TRIGGER_NAME_LENGTH } from './triggers.ts';

/** django-flowcontrol's `FlowDirective`: what an action tells the engine to do next. */
export const FlowDirective = {
  /** Run the next action in the sequence. */
  CONTINUE: 'continue',
  /** Run the sub-actions of the current action. */
  ENTER: 'enter',
  /** Run the parent action again (like `continue` in a loop). */
  LEAVE: 'leave',
  /** Run the parent action's next sibling (like `break` in a loop). */
  BREAK: 'break',
  /** Stop the flow run. */
  ABORT: 'abort',
  /** Pause until `continueAfter`, then continue with the action's next sibling. */
  SUSPEND: 'suspend',
  /** Pause until `continueAfter`, then run the action again. */
  SUSPEND_AND_REPEAT: 'suspend-and-repeat',
} as const;

/** One of the `FlowDirective` values. */
export type FlowDirectiveValue = (typeof FlowDirective)[keyof typeof FlowDirective];

/**
 * What an action returns: a directive (nothing means CONTINUE), or a suspension with its time.
 * A bare `SUSPEND` / `SUSPEND_AND_REPEAT` pauses until the next continue pass
 * (`continueAfter` = now, as django-flowcontrol's `suspend_flowrun` sets it).
 */
export type ActionResult =
  | FlowDirectiveValue
  | { directive: typeof FlowDirective.SUSPEND | typeof FlowDirective.SUSPEND_AND_REPEAT; continueAfter: number }
  | TriggerWait
  | undefined
  // biome-ignore lint/suspicious/noConfusingVoidType: actions that return nothing must type-check as CONTINUE
  | void;

/**
 * A suspension until a trigger fires (django-flowcontrol's Wait for trigger): the run waits
 * with no time; firing `trigger` (for the run's object, unless `requireObject` is false)
 * makes it continue with the action's next sibling. See `waitForTrigger`.
 */
export interface TriggerWait {
  directive: typeof FlowDirective.SUSPEND;
  trigger: string;
  /** Only a firing for the run's object resumes it (default true); a run without object needs a firing without object. */
  requireObject?: boolean;
}

/** What an action's `run` and `returnFromChildren` receive. */
export interface ActionContext {
  readonly runId: string;
  readonly flow: string;
  /** The object the run is bound to (a trigger's object), if any. */
  readonly objectId: string | null;
  /** The type of that object, if known. */
  readonly objectType: string | null;
  readonly now: number;
  /** The run's JSON state; mutate it to keep results. */
  state: Record<string, unknown>;
  /** The run that started this one (django-flowcontrol's `parent_run`), if any. */
  readonly parentId: string | null;
  /** The runs this run started with `startChild`, as they stood when the action began (oldest first). */
  readonly children: readonly FlowRun[];
  /**
   * Starts a child run of `flow` with this run as its parent (limits allowing; null if they
   * forbid it). It is created in the same transaction as this action's step and is `pending`
   * until `continueFlowRuns` (or `execute`) runs it; the parent runs on meanwhile. With
   * `immediate`, it is executed as soon as this action's step commits, before the parent's next
   * action (which sees it in `children`); the action itself gets it as created. When the child
   * finishes, a parent that is `waiting` becomes due at once, so a parent that should wait for
   * its child returns `suspendAndRepeat(later)` and checks `children` again.
   */
  startChild(flow: string, options?: { objectId?: string; objectType?: string; state?: Record<string, unknown>; immediate?: boolean }): Promise<FlowRun | null>;
}

/** A flowcontrol action: `run` returns a directive; an action with children may ENTER them. */
export interface FlowAction {
  readonly name: string;
  run(ctx: ActionContext): ActionResult | Promise<ActionResult>;
  /** Called when the children ran to their end; its directive applies to this action (default CONTINUE). */
  returnFromChildren?(ctx: ActionContext): ActionResult | Promise<ActionResult>;
  readonly children?: readonly FlowAction[];
}

/**
 * Builds an action.
 * @example
 * flowAction('loop', (ctx) => ((ctx.state.n as number) < 3 ? FlowDirective.ENTER : FlowDirective.CONTINUE), { children: [increment] })
 */
export function flowAction(
  name: string,
  run: FlowAction['run'],
  options: { children?: FlowAction[]; returnFromChildren?: FlowAction['returnFromChildren'] } = {},
): FlowAction {
  return { name, run, ...options };
}

/** Pauses the run until `at`, then continues with the next sibling. */
export const suspend = (at: number): ActionResult => ({ directive: FlowDirective.SUSPEND, continueAfter: at });
/** Pauses the run until `at`, then runs the same action again. */
export const suspendAndRepeat = (at: number): ActionResult => ({ directive: FlowDirective.SUSPEND_AND_REPEAT, continueAfter: at });

/** A condition on a run: a function of the action context (the run's state, object, time). */
export type FlowCondition = (ctx: ActionContext) => boolean;

/** A flow: a tree of actions, with limits on concurrent runs and the triggers that start it. */
export interface FlowDefinition {
  readonly name: string;
  readonly actions: readonly FlowAction[];
  /**
   * When the flow is active (django-flowcontrol's `active_at`): absent, always; null, never;
   * a time (epoch ms), from then on. An inactive flow starts no runs (`createRun` throws
   * `FlowInactiveError`, triggers skip it); its existing runs go on.
   */
  readonly activeAt?: number | null;
  /**
   * Checked each time a run is executed (started, continued, resumed): when it does not hold,
   * the run is discarded (status `obsolete`) before any action runs.
   */
  readonly condition?: FlowCondition;
  /** At most this many unfinished runs of the flow at once (default 0: no limit). */
  readonly maxConcurrent?: number;
  /**
   * At most this many unfinished runs of the flow per bound object: default 1, as in
   * django-flowcontrol (a second run for an object waits until the first finishes); 0: no limit.
   */
  readonly maxConcurrentPerObject?: number;
  /** At most this many runs of the flow per bound object, finished ones included (default 0: no limit). */
  readonly maxPerObject?: number;
  /**
   * The type of object the flow's runs are bound to (django-flowcontrol's `content_type`): a run
   * for an object of another type is not created; a run given an `objectId` without a type gets this one.
   */
  readonly objectType?: string;
  /** The triggers that start this flow: names, or `{ name, resetTo?, condition?, activeAt? }` (`triggers.ts`). */
  readonly triggers?: readonly (string | FlowTrigger)[];
}


/** The status of a flow run. */
export type FlowRunStatus = 'pending' | 'waiting' | 'done' | 'aborted' | 'cancelled' | 'failed' | 'obsolete';

/** One run of a flow: where it stands, its state and its log. */
export interface FlowRun {
  id: string;
  flow: string;
  status: FlowRunStatus;
  /** Index path of the current action in the action tree; empty before the first action. */
  position: number[];
  /** After a suspension: continue with the next sibling, or repeat the action. */
  resume: 'next' | 'repeat';
  continueAfter: number | null;
  state: Record<string, unknown>;
  objectId: string | null;
  /** The type of the bound object (with the flow's `objectType`), else null; absent on runs stored before object types. */
  objectType?: string | null;
  trigger: string | null;
  createdAt: number;
  finishedAt: number | null;
  error: string | null;
  /** Every action run with its directive, in order; `node` is the action's index path (`0.1`, as `flowcontrolGraph` names it; absent on entries written before it). */
  log: { action: string; directive: FlowDirectiveValue; at: number; node?: string }[];
  /** The run that started this one (`parent_run`); null for runs started directly or by a trigger. */
  parentId: string | null;
  /** How often each action (by index path) ran in the current execution: the hot-loop guard, kept across steps. */
  loops: Record<string, number>;
  /** The trigger the waiting run waits for (`waitForTrigger`), else null (absent on runs stored before triggers could be awaited). */
  waitingTrigger?: string | null;
  /** Whether only a firing for the run's object resumes it. */
  waitingTriggerMatchObject?: boolean;
}

/** What `stepFlowRun` needs besides the flow and the run: the hot-loop limit and the child-run hooks. */
export interface FlowStepOptions {
  /** How often one action may run within one execution (default `MAX_HOT_LOOPS`). */
  maxHotLoop?: number;
  /** The first step of an execution: the hot-loop counts start again. */
  fresh?: boolean;
  /** The run's child runs, for `ActionContext.children`. */
  children?: readonly FlowRun[];
  /** Creates a child run (in the step's transaction); without it `startChild` throws. */
  startChild?: ActionContext['startChild'];
}

/** An action ran more often than the hot-loop limit within one execution; the run was failed. */
export class FlowHotLoopError extends WayflowError {
  override readonly name: string = 'FlowHotLoopError';
  constructor(flow: string, runId: string, actionName: string, limit: number) {
    super(
      'flowcontrol-hot-loop',
      `Flow "${flow}", run ${runId}: action "${actionName}" ran more than ${limit} times in one execution; the run was stopped. Suspend inside the loop, or raise maxHotLoop.`,
    );
  }
}

/** An action returned ENTER but has no children, or an unknown directive. */
export class FlowDirectiveError extends WayflowError {
  override readonly name: string = 'FlowDirectiveError';
  constructor(flow: string, runId: string, actionName: string, detail: string) {
    super('flowcontrol-directive', `Flow "${flow}", run ${runId}: action "${actionName}" ${detail}. Return a directive the action supports.`);
  }
}

/** No flow of that name is registered, or no run has that id. */
export class FlowNotFoundError extends WayflowError {
  override readonly name: string = 'FlowNotFoundError';
  constructor(what: 'flow' | 'run', name: string) {
    super(
      'flowcontrol-not-found',
      what === 'flow'
        ? `Flow "${name}" is not registered. Pass it to new FlowControl({ flows }) or registerFlow().`
        : `Flow run ${name} does not exist. Check the id, or start a new run.`,
    );
  }
}

/** The default hot-loop limit: how often one action may run within one execution (the browser's steps share it). */
export { MAX_HOT_LOOPS };

const DIRECTIVES = new Set<string>(Object.values(FlowDirective));

/** The run stands at an action the flow no longer has (the flow was changed while the run waited). */
export class FlowActionMissingError extends WayflowError {
  override readonly name: string = 'FlowActionMissingError';
  constructor(flow: string, runId: string, position: readonly number[]) {
    super(
      'flowcontrol-action-missing',
      `Flow "${flow}", run ${runId}: the run stands at action #${position.join('.')}, which the flow no longer has; the run failed. Keep actions in place while runs wait at them, or cancel those runs first.`,
    );
  }
}

/** A run cannot start child runs outside a `FlowControl` (the pure `executeFlowRun` has no storage). */
export class FlowChildRunError extends WayflowError {
  override readonly name: string = 'FlowChildRunError';
  constructor(flow: string, runId: string) {
    super(
      'flowcontrol-child-run',
      `Flow "${flow}", run ${runId}: an action called startChild, but the run is executed without a FlowControl. Execute it through FlowControl (execute or continueFlowRuns).`,
    );
  }
}

/** Whether the flow is active at `now` (see `FlowDefinition.activeAt`). */
export function isFlowActive(flow: Pick<FlowDefinition, 'activeAt'>, now: number): boolean {
  return flow.activeAt === undefined || (flow.activeAt !== null && flow.activeAt <= now);
}

/** A run of an inactive flow was asked for (django-flowcontrol refuses to start a run of an inactive flow). */
export class FlowInactiveError extends WayflowError {
  override readonly name: string = 'FlowInactiveError';
  constructor(flow: string, activeAt: number | null) {
    super(
      'flowcontrol-inactive',
      `Flow "${flow}" is not active (${activeAt === null ? 'activeAt is null' : `active from ${Number.isFinite(activeAt) ? new Date(activeAt).toISOString() : String(activeAt)}`}); it starts no runs. Set its activeAt to a past time, or leave it out, to activate it.`,
    );
  }
}

/**
 * Whether the run could be executed at `now`: pending, or waiting with `continueAfter` passed.
 * A run waiting for a trigger has no `continueAfter` and is not runnable until the trigger fires.
 */
export function isFlowRunRunnable(run: FlowRun, now: number): boolean {
  return run.status === 'pending' || (run.status === 'waiting' && run.continueAfter !== null && run.continueAfter <= now);
}

/**
 * Executes a run until it finishes, suspends, aborts or fails, and returns the new run
 * (the input is not touched). Runs that are finished, or waiting with `continueAfter`
 * in the future, are returned unchanged; an inconsistent run throws `FlowRunStateError`. This is `stepFlowRun` repeated in memory;
 * `FlowControl` persists every step instead.
 */
export async function executeFlowRun(flow: FlowDefinition, input: FlowRun, now: number, maxHotLoop = MAX_HOT_LOOPS): Promise<FlowRun> {
  assertFlowRunConsistent(input);
  let run = input;
  let fresh = true;
  while (isFlowRunRunnable(run, now)) {
    run = await stepFlowRun(flow, run, now, { maxHotLoop, fresh });
    fresh = false;
  }
  return run;
}

/**
 * Runs exactly one action of a runnable run (plus the `returnFromChildren` of the parents it
 * completes) and returns the new run, the input untouched: still `pending` with `position`
 * at the next action (`resume: 'repeat'`), or `done`, `waiting`, `aborted` or `failed`.
 * A run that is not runnable at `now` is returned unchanged; an inconsistent one (waiting with
 * neither time nor trigger, or at no action) throws `FlowRunStateError` and is not run.
 */
export async function stepFlowRun(flow: FlowDefinition, input: FlowRun, now: number, options: FlowStepOptions = {}): Promise<FlowRun> {
  assertFlowRunConsistent(input);
  const run = structuredClone(input);
  if (!isFlowRunRunnable(run, now)) return run;
  const maxHotLoop = options.maxHotLoop ?? MAX_HOT_LOOPS;
  const ctx: ActionContext = {
    runId: run.id,
    flow: flow.name,
    objectId: run.objectId,
    objectType: run.objectType ?? null,
    now,
    state: run.state,
    parentId: run.parentId ?? null,
    children: options.children ?? [],
    startChild: options.startChild ?? (() => Promise.reject(new FlowChildRunError(flow.name, run.id))),
  };
  if (options.fresh || !run.loops) run.loops = {};
  const counts = run.loops;
  const finish = (status: FlowRunStatus, error: string | null = null) => {
    run.status = status;
    run.finishedAt = now;
    run.error = error;
    run.continueAfter = null;
    return run;
  };

  /** Follows a move: the action to run next, or the return-from-children path of a parent; `done` past the top. */
  async function follow(move: DirectiveMove<ActionNode>): Promise<Landing> {
    if ('run' in move) return { to: 'action', node: move.run };
    const parent = move.back;
    if (!parent) return { to: 'done' };
    const act = parent.action;
    return apply(parent, act.returnFromChildren ? await act.returnFromChildren(ctx) : undefined);
  }

  /** Resolves the result of the action at `at` (its `run` or its `returnFromChildren`) to where the run lands. */
  async function apply(at: ActionNode, result: ActionResult): Promise<Landing> {
    const act = at.action;
    const directive = typeof result === 'object' && result !== null ? result.directive : (result ?? FlowDirective.CONTINUE);
    const refuse = (detail: string): Landing => ({ to: 'failed', error: describeError(new FlowDirectiveError(flow.name, run.id, act.name, detail)) });
    if (!DIRECTIVES.has(directive)) return refuse(`returned unknown directive "${String(directive)}"`);
    run.log.push({ action: act.name, directive, at: now, node: at.position.join('.') });
    if (directive === FlowDirective.ABORT) return { to: 'aborted' };
    if (directive === FlowDirective.SUSPEND && typeof result === 'object' && result !== null && 'trigger' in result) {
      const trigger = result.trigger;
      if (typeof trigger !== 'string' || trigger.length === 0 || trigger.length > MAX_TRIGGER_NAME_LENGTH) {
        return refuse(`returned a wait for trigger ${describeValue(trigger)}, not a trigger name of 1 to ${MAX_TRIGGER_NAME_LENGTH} characters`);
      }
      return { to: 'suspended', position: at.position, resume: 'next', continueAfter: null, trigger: { name: trigger, matchObject: result.requireObject ?? true } };
    }
    if (directive === FlowDirective.SUSPEND || directive === FlowDirective.SUSPEND_AND_REPEAT) {
      // A bare SUSPEND has django-flowcontrol's meaning: continue_after = now, the next continue pass.
      const continueAfter = typeof result === 'object' && result !== null && 'continueAfter' in result ? result.continueAfter : now;
      if (typeof continueAfter !== 'number' || !Number.isFinite(continueAfter)) {
        return refuse(
          `returned ${directive} with continueAfter ${describeValue(continueAfter)}, not a time (epoch ms); use suspend(at) or return FlowDirective.SUSPEND for the next continue pass`,
        );
      }
      return { to: 'suspended', position: at.position, resume: directive === FlowDirective.SUSPEND ? 'next' : 'repeat', continueAfter };
    }
    const move = directiveMove(at, directive);
    if (!move) return refuse('returned ENTER but has no children');
    return follow(move);
  }

  /** Where the run goes from its position: the start, the action the position names, or past it (after a SUSPEND). */
  async function resume(): Promise<Landing> {
    const top = actionTree(flow);
    if (run.position.length === 0) return top[0] ? { to: 'action', node: top[0] } : { to: 'done' };
    const node = nodeAt(top, run.position);
    if (!node) return { to: 'failed', error: new FlowActionMissingError(flow.name, run.id, run.position).message };
    return run.resume === 'repeat' ? { to: 'action', node } : follow(directiveMove(node, 'continue') as DirectiveMove<ActionNode>);
  }

  /** Runs the action the run landed on and resolves its directive. */
  async function runAction(node: ActionNode): Promise<Landing> {
    const key = node.position.join('.');
    const count = (counts[key] ?? 0) + 1;
    counts[key] = count;
    if (count > maxHotLoop) return { to: 'failed', error: new FlowHotLoopError(flow.name, run.id, node.action.name, maxHotLoop).message };
    run.position = node.position;
    return apply(node, await node.action.run(ctx));
  }

  run.status = 'pending';
  run.continueAfter = null;
  run.waitingTrigger = null;
  let landing: Landing;
  try {
    // django-flowcontrol checks the flow's condition each time a run is executed, before any action.
    if (options.fresh && flow.condition && !flow.condition(ctx)) return finish('obsolete');
    landing = await resume();
    if (landing.to === 'action') landing = await runAction(landing.node);
  } catch (error) {
    // An action (or its returnFromChildren) threw.
    landing = { to: 'failed', error: describeError(error) };
  }
  switch (landing.to) {
    case 'action':
      run.position = landing.node.position;
      run.resume = 'repeat';
      return run;
    case 'suspended':
      run.status = 'waiting';
      run.position = landing.position;
      run.resume = landing.resume;
      run.continueAfter = landing.continueAfter;
      if (landing.trigger) {
        run.waitingTrigger = landing.trigger.name;
        run.waitingTriggerMatchObject = landing.trigger.matchObject;
      }
      return run;
    case 'done':
      return finish('done');
    case 'aborted':
      return finish('aborted');
    case 'failed':
      return finish('failed', landing.error);
  }
}

/** Where one step of a run lands: the next action, the end, an abort, a suspension, or a failure. */
type Landing =
  | { to: 'action'; node: ActionNode }
  | { to: 'done' }
  | { to: 'aborted' }
  | { to: 'suspended'; position: number[]; resume: 'next' | 'repeat'; continueAfter: number | null; trigger?: { name: string; matchObject: boolean } }
  | { to: 'failed'; error: string };

/** One action of a flow in its tree: where it sits (index path) and what runs after it, for `directiveMove`. */
interface ActionNode extends TreeNode<ActionNode> {
  readonly action: FlowAction;
  readonly position: number[];
}

const trees = new WeakMap<FlowDefinition, ActionNode[]>();

/** The top-level actions of a flow as tree nodes (built once per flow definition). */
function actionTree(flow: FlowDefinition): ActionNode[] {
  let top = trees.get(flow);
  if (!top) {
    const build = (actions: readonly FlowAction[], parent: ActionNode | null): ActionNode[] => {
      const nodes = actions.map((action, i): ActionNode => ({ action, position: [...(parent?.position ?? []), i], parent, children: [] }));
      nodes.forEach((node, i) => {
        Object.assign(node, { next: nodes[i + 1], children: build(node.action.children ?? [], node) });
      });
      return nodes;
    };
    top = build(flow.actions, null);
    trees.set(flow, top);
  }
  return top;
}

/** The node at an index path, or undefined when the flow has no action there. */
function nodeAt(top: readonly ActionNode[], position: readonly number[]): ActionNode | undefined {
  let list = top;
  let found: ActionNode | undefined;
  for (const index of position) {
    found = list[index];
    if (!found) return undefined;
    list = found.children;
  }
  return found;
}

/** The index paths of the flow's actions named `name`, depth first (one, unless names repeat). */
export function actionPositions(flow: FlowDefinition, name: string): number[][] {
  const found: number[][] = [];
  const visit = (nodes: readonly ActionNode[]) => {
    for (const node of nodes) {
      if (node.action.name === name) found.push(node.position);
      visit(node.children);
    }
  };
  visit(actionTree(flow));
  return found;
}
