import { WayflowError } from '../../core/index.ts';
import { describeValue } from '../errors.ts';
import { type ActionContext, type ActionResult, flowAction, type FlowAction, type FlowCondition, FlowDirective, suspend } from './flow.ts';
import { checkTriggerName } from './triggers.ts';

/**
 * The built-in actions of django-flowcontrol (its "Concepts" page), ready to put in a flow:
 * If Condition (with an optional else branch), While Loop, For Loop, Return to parent action,
 * Leave branch, Stop Flow, Set state, Update state, Start new flow and Delay. Where the seed
 * evaluates a Django template expression, these take a TypeScript function of the action's
 * context (typed, no template engine); docs/seeds-flowcontrol.md lists the differences.
 */

/** A built-in action was configured with a value it cannot work with (found when the flow is defined). */
export class FlowActionConfigError extends WayflowError {
  override readonly name: string = 'FlowActionConfigError';
  constructor(actionName: string, field: string, detail: string) {
    super('flowcontrol-action-config', `Action "${actionName}": ${field} ${detail}. Fix the action's options where the flow is defined.`);
  }
}

/** A built-in action found the run's state not as it left it (e.g. a For loop's counter removed by another action). */
export class FlowActionStateError extends WayflowError {
  override readonly name: string = 'FlowActionStateError';
  constructor(actionName: string, runId: string, detail: string) {
    super('flowcontrol-action-state', `Action "${actionName}", run ${runId}: ${detail}. Leave the key to the action, or give the loop another varName.`);
  }
}

/**
 * If Condition: runs its children when `condition` holds, then goes on after itself. With
 * `otherwise` (an else branch), runs those actions instead when it does not hold (the condition is evaluated once,
 * kept in the internal state key `_if_<name>` while a branch runs).
 * @example
 * ifCondition('vip?', (ctx) => ctx.state.plan === 'pro', [sendGift], [sendCoupon])
 */
export function ifCondition(name: string, condition: FlowCondition, children: FlowAction[], otherwise?: FlowAction[]): FlowAction {
  if (!otherwise) {
    return flowAction(name, (ctx) => (condition(ctx) ? FlowDirective.ENTER : FlowDirective.CONTINUE), {
      children,
      returnFromChildren: () => FlowDirective.CONTINUE,
    });
  }
  const key = `_if_${name}`;
  const branch = (label: string, when: boolean, children: FlowAction[]) =>
    flowAction(`${name}: ${label}`, (ctx) => (ctx.state[key] === when ? FlowDirective.ENTER : FlowDirective.CONTINUE), {
      children,
      returnFromChildren: () => FlowDirective.CONTINUE,
    });
  const done = (ctx: ActionContext) => {
    delete ctx.state[key];
    return FlowDirective.CONTINUE;
  };
  return flowAction(
    name,
    (ctx) => {
      ctx.state[key] = condition(ctx);
      return FlowDirective.ENTER;
    },
    { children: [branch('then', true, children), branch('else', false, otherwise)], returnFromChildren: done },
  );
}

/**
 * While Loop: runs its children again and again while `condition` holds (checked before each
 * round), then goes on after itself. A child that returns LEAVE starts the next round early;
 * BREAK leaves the loop.
 */
export function whileLoop(name: string, condition: FlowCondition, children: FlowAction[]): FlowAction {
  const check = (ctx: ActionContext) => (condition(ctx) ? FlowDirective.ENTER : FlowDirective.CONTINUE);
  return flowAction(name, check, { children, returnFromChildren: check });
}

/** Options of `forLoop`: django-flowcontrol's For Loop (start, end exclusive, step, variable name). */
export interface ForLoopOptions {
  /** First value of the counter (default 0). */
  start?: number;
  /** The loop ends when the counter reaches this value (exclusive). */
  end: number;
  /** Added to the counter after each round (default 1; a positive integer). */
  step?: number;
  /** State key holding the counter while the loop runs (default `_for_loop_<name>`); removed when the loop ends. */
  varName?: string;
}

/**
 * For Loop: runs its children for counter = start, start + step, … while the counter is below
 * `end`. The counter lives in the run's state under `varName` (children may read it) and is
 * removed when the loop ends. As in the seed, a BREAK out of the loop (`leaveBranch`) leaves
 * the counter in the state, and a later run of the loop goes on from it; clear it with
 * `setState`/`updateState` when the loop should start over.
 * @example
 * forLoop('three reminders', { end: 3, varName: 'round' }, [remind, flowAction('wait', (ctx) => suspend(ctx.now + days(1)))])
 */
export function forLoop(name: string, options: ForLoopOptions, children: FlowAction[]): FlowAction {
  const { start = 0, end, step = 1 } = options;
  for (const [field, value] of [
    ['start', start],
    ['end', end],
  ] as const) {
    if (!Number.isInteger(value) || value < 0) throw new FlowActionConfigError(name, field, `is ${describeValue(value)}, not a whole number >= 0`);
  }
  if (!Number.isInteger(step) || step < 1) throw new FlowActionConfigError(name, 'step', `is ${describeValue(step)}, not a whole number >= 1`);
  const key = options.varName || `_for_loop_${name}`;
  const decide = (ctx: ActionContext) => {
    if ((ctx.state[key] as number) >= end) {
      delete ctx.state[key];
      return FlowDirective.CONTINUE;
    }
    return FlowDirective.ENTER;
  };
  return flowAction(
    name,
    (ctx) => {
      if (!(key in ctx.state)) ctx.state[key] = start;
      return decide(ctx);
    },
    {
      children,
      returnFromChildren: (ctx) => {
        const counter = ctx.state[key];
        if (typeof counter !== 'number') {
          throw new FlowActionStateError(name, ctx.runId, `the loop counter "${key}" is ${describeValue(counter)} in the run's state, not a number`);
        }
        ctx.state[key] = counter + step;
        return decide(ctx);
      },
    },
  );
}

/** The directive when `condition` is absent or holds, else CONTINUE (django-flowcontrol's conditional directives). */
function conditional(name: string, directive: typeof FlowDirective.LEAVE | typeof FlowDirective.BREAK, condition?: FlowCondition): FlowAction {
  return flowAction(name, (ctx) => (!condition || condition(ctx) ? directive : FlowDirective.CONTINUE));
}

/** Return to parent action: goes back to the parent (its `returnFromChildren` decides; a loop starts its next round). At the top level the run ends. With a condition, only when it holds. */
export function returnToParent(name: string, condition?: FlowCondition): FlowAction {
  return conditional(name, FlowDirective.LEAVE, condition);
}

/** Leave branch: goes on with the parent's next sibling (`break` out of a loop). At the top level the run ends. With a condition, only when it holds. */
export function leaveBranch(name: string, condition?: FlowCondition): FlowAction {
  return conditional(name, FlowDirective.BREAK, condition);
}

/** Stop Flow: ends the run (status `aborted`). */
export function stopFlow(name: string): FlowAction {
  return flowAction(name, () => FlowDirective.ABORT);
}

/** The state a state action writes: fixed JSON, or computed from the context (the seed's "evaluate as expressions"). */
export type StateValues = Record<string, unknown> | ((ctx: ActionContext) => Record<string, unknown>);

function valuesOf(values: StateValues, ctx: ActionContext): Record<string, unknown> {
  return structuredClone(typeof values === 'function' ? values(ctx) : values);
}

/** Set state: replaces the run's state with `values`, keeping the internal keys (those starting with `_`, such as loop counters). */
export function setState(name: string, values: StateValues): FlowAction {
  return flowAction(name, (ctx) => {
    const next = valuesOf(values, ctx);
    for (const key of Object.keys(ctx.state)) {
      if (key.startsWith('_')) next[key] = ctx.state[key];
      else delete ctx.state[key];
    }
    Object.assign(ctx.state, next);
  });
}

/** Update state: sets the keys of `values` in the run's state, leaving the others. */
export function updateState(name: string, values: StateValues): FlowAction {
  return flowAction(name, (ctx) => {
    Object.assign(ctx.state, valuesOf(values, ctx));
  });
}

/** Options of `startFlow` (django-flowcontrol's Start new flow). */
export interface StartFlowOptions {
  /** Bind the new run to this run's object (default true). */
  passObject?: boolean;
  /** Start the new run with a copy of this run's state (default false). */
  passState?: boolean;
  /** Execute the new run at once, before this run's next action (default false: on the next `continueFlowRuns`). */
  immediate?: boolean;
}

/**
 * Start new flow: starts a run of `flow` as a child of this run (limits allowing; when they
 * forbid it nothing starts and this run goes on), then goes on. The child is pending until
 * `continueFlowRuns` runs it, or, with `immediate`, runs before this run's next action.
 */
export function startFlow(name: string, flow: string, options: StartFlowOptions = {}): FlowAction {
  const { passObject = true, passState = false, immediate = false } = options;
  return flowAction(name, async (ctx) => {
    await ctx.startChild(flow, {
      ...(passObject && ctx.objectId !== null ? { objectId: ctx.objectId, ...(ctx.objectType !== null ? { objectType: ctx.objectType } : {}) } : {}),
      ...(passState ? { state: structuredClone(ctx.state) } : {}),
      ...(immediate ? { immediate } : {}),
    });
  });
}

/** What `delay` does when the time it computes has already passed (django-flowcontrol's "action if past delay"). */
export type DelayIfPast = 'continue' | 'suspend' | 'leave' | 'break' | 'abort';

/** Options of `delay`: django-flowcontrol's Delay (base date, months, duration, weekday, time of day; all in UTC). */
export interface DelayOptions {
  /** The time the delay counts from (epoch ms, a Date or an ISO string); default the time the action runs. */
  from?: (ctx: ActionContext) => number | Date | string;
  /** Calendar months to add (the day is kept, or the month's last day). */
  months?: number;
  /** Milliseconds to add (`hours(2)`, `days(3)`…). */
  ms?: number;
  /** Then move forward to this weekday, 0 = Monday … 6 = Sunday (the same day when it already is). */
  weekday?: number;
  /** Then set the time of day (UTC). */
  time?: { hour: number; minute?: number; second?: number };
  /** When the computed time has passed: go on at once (`continue`, the default), wait for the next continue pass (`suspend`), or LEAVE, BREAK, ABORT. */
  ifPast?: DelayIfPast;
}

const IF_PAST: Record<Exclude<DelayIfPast, 'suspend'>, ActionResult> = {
  continue: FlowDirective.CONTINUE,
  leave: FlowDirective.LEAVE,
  break: FlowDirective.BREAK,
  abort: FlowDirective.ABORT,
};

/**
 * Delay: suspends the run until the time computed from `options` (applied in order: months,
 * ms, weekday, time of day), then goes on with the next action.
 * @example
 * delay('next Monday 9:00', { weekday: 0, time: { hour: 9 } })
 */
export function delay(name: string, options: DelayOptions): FlowAction {
  const { weekday, time, months, ms } = options;
  if (weekday !== undefined && !(Number.isInteger(weekday) && weekday >= 0 && weekday <= 6)) {
    throw new FlowActionConfigError(name, 'weekday', `is ${describeValue(weekday)}, not 0 (Monday) to 6 (Sunday)`);
  }
  if (months !== undefined && !Number.isInteger(months)) throw new FlowActionConfigError(name, 'months', `is ${describeValue(months)}, not a whole number`);
  if (ms !== undefined && !Number.isFinite(ms)) throw new FlowActionConfigError(name, 'ms', `is ${describeValue(ms)}, not a number of milliseconds`);
  if (time && !(isIn(time.hour, 23) && isIn(time.minute ?? 0, 59) && isIn(time.second ?? 0, 59))) {
    throw new FlowActionConfigError(name, 'time', `is ${describeValue(time)}, not a time of day { hour 0-23, minute? 0-59, second? 0-59 }`);
  }
  return flowAction(name, (ctx) => {
    const at = delayUntil(baseTime(name, ctx, options.from), options);
    if (at >= ctx.now) return suspend(at);
    const ifPast = options.ifPast ?? 'continue';
    return ifPast === 'suspend' ? suspend(at) : IF_PAST[ifPast];
  });
}

function isIn(value: number, max: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= max;
}

function baseTime(name: string, ctx: ActionContext, from: DelayOptions['from']): number {
  if (!from) return ctx.now;
  const value = from(ctx);
  const at = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : value;
  if (typeof at !== 'number' || !Number.isFinite(at)) {
    throw new FlowActionStateError(name, ctx.runId, `the delay's base time is ${describeValue(value)}, not a time (epoch ms, Date or ISO string)`);
  }
  return at;
}

/** The time a delay ends: `base` plus months, plus ms, then forward to the weekday, then at the time of day (UTC). */
export function delayUntil(base: number, options: Pick<DelayOptions, 'months' | 'ms' | 'weekday' | 'time'>): number {
  const date = new Date(base);
  if (options.months) {
    const day = date.getUTCDate();
    date.setUTCDate(1);
    date.setUTCMonth(date.getUTCMonth() + options.months);
    const lastDay = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
    date.setUTCDate(Math.min(day, lastDay));
  }
  if (options.ms) date.setTime(date.getTime() + options.ms);
  if (options.weekday !== undefined) {
    const mondayBased = (date.getUTCDay() + 6) % 7;
    date.setUTCDate(date.getUTCDate() + ((options.weekday - mondayBased + 7) % 7));
  }
  if (options.time) date.setUTCHours(options.time.hour, options.time.minute ?? 0, options.time.second ?? 0);
  return date.getTime();
}

/**
 * Wait for trigger: suspends the run, with no time, until `trigger` is fired
 * (`control.triggerFlows(trigger, { objectId })`); then the run goes on with the next action.
 * With `requireObject` (the default) only a firing for the run's object resumes it (a run
 * without object: a firing without object); with `requireObject: false` any firing does.
 * @example
 * waitForTrigger('wait for payment', 'order_paid')
 */
export function waitForTrigger(name: string, trigger: string, options: { requireObject?: boolean } = {}): FlowAction {
  checkTriggerName(trigger, `Action "${name}"`);
  const requireObject = options.requireObject ?? true;
  return flowAction(name, () => ({ directive: FlowDirective.SUSPEND, trigger, requireObject }));
}
