import type { StandardSchemaV1 } from '../../core/index.ts';

/** The JSON data object every automation instance carries, shared by all its nodes. */
export type AutomationData = Record<string, unknown>;

/**
 * What node functions (Execute methods, conditions, wait times) receive.
 * `data` is a working copy: changes are saved with the step that made them, atomically.
 */
export interface NodeContext {
  /** The automation's name. */
  readonly automation: string;
  /** The instance id. */
  readonly instanceId: string;
  /** The instance's URL key. */
  readonly key: string;
  /** The node being processed. */
  readonly node: string;
  /** The id of the open history row (task) for this node visit. */
  readonly taskId: number;
  /** Current time, from the runner's clock (epoch milliseconds). */
  readonly now: number;
  /** `instanceId:taskId`; stable across a retried step, so external side effects can be deduplicated with it. */
  readonly idempotencyKey: string;
  /** The instance data; mutate it to keep results for later nodes. */
  data: AutomationData;
}

/** A function an Execute node runs; its JSON-serialisable result is stored in the history row. */
export type ExecuteFn = (ctx: NodeContext) => unknown;
/** A condition: a constant or a (possibly async) function of the context, evaluated for truthiness. */
export type Condition = boolean | ((ctx: NodeContext) => unknown);
/** A point in time: epoch milliseconds, a Date, or a function computing one from the context. */
export type TimeValue = number | Date | ((ctx: NodeContext) => number | Date | Promise<number | Date>);
/** A duration in milliseconds, or a function computing one from the context. */
export type DurationValue = number | ((ctx: NodeContext) => number | Promise<number>);

/** A modifier given again where a node takes one, with the modifier given first and why one is enough. */
export interface RepeatedModifier {
  modifier: string;
  first: string;
  what?: string;
}

/** The kinds of node an automation is built from. */
export type NodeKind = 'execute' | 'end' | 'repeat' | 'if' | 'split' | 'join' | 'form' | 'send-message';

/** Keeps a node's class but records a new set of referenced node names (compile-time only). */
export type WithRefs<S, R extends string> = S extends { kind: 'execute' }
  ? ExecuteNode<R>
  : S extends { kind: 'if' }
    ? IfNode<R>
    : S extends { kind: 'repeat' }
      ? RepeatNode<R>
      : S extends { kind: 'split' }
        ? SplitNode<R>
        : S extends { kind: 'form' }
          ? FormNode<R>
          : S extends { kind: 'send-message' }
            ? SendMessageNode<R>
            : S extends { kind: 'join' }
              ? JoinNode<R>
              : EndNode<R>;

/**
 * Base of every node: the modifiers common to all kinds. Modifiers change the node and
 * return it, so they chain. `R` is the union of node names the node refers to; a
 * definition only type-checks when every referenced name is one of its nodes.
 */
export abstract class AutomationNode<R extends string = never> {
  /** Phantom: the node names this node refers to. Never set at runtime. */
  declare readonly refs?: R;
  abstract readonly kind: NodeKind;
  /** `.next(node)`; for Split, every target in order. */
  nextTargets: string[] = [];
  asSoonAsCondition: Condition | undefined;
  waitUntil: TimeValue | undefined;
  waitFor: DurationValue | undefined;
  skipIfCondition: Condition | undefined;
  skipAfterMs: number | undefined;
  description = '';
  /**
   * Modifiers given again where the node takes one (a second `.next()`, a second wait, …),
   * each with the modifier given first; `validateAutomation` reports every one, as the
   * reference refuses them ("Multiple .Next statements"), so nothing is silently overwritten.
   */
  readonly repeatedModifiers: RepeatedModifier[] = [];

  /** Records `modifier` as repeated when `first` (the modifier that set the same thing before) is defined. */
  protected given(modifier: string, first: string | undefined, what?: string): void {
    if (first === undefined) return;
    this.repeatedModifiers.push(what === undefined ? { modifier, first } : { modifier, first, what });
  }

  /** Continue with `node` after this one instead of the next node in declaration order (a goto); once per node (a split takes one per path). */
  next<T extends string>(node: T): WithRefs<this, R | T> {
    this.given('next', this.nextTargets.length > 0 ? 'next' : undefined, 'a node continues with one node (only a split takes several .next())');
    this.nextTargets = [node];
    return this as never;
  }
  /** Wait until `condition` holds; it is checked again every time the instance runs. Given again, every condition must hold. */
  asSoonAs(condition: Condition): this {
    this.asSoonAsCondition = this.asSoonAsCondition === undefined ? condition : allOf(this.asSoonAsCondition, condition);
    return this;
  }
  /** Do not process the node before `at` (evaluated once, when the node is entered). One wait per node. */
  afterWaitingUntil(at: TimeValue): this {
    this.given('afterWaitingUntil', this.waitModifier(), 'a node has one wait');
    this.waitUntil = at;
    return this;
  }
  /** Do not process the node before `duration` ms have passed since it was entered. One wait per node. */
  afterWaitingFor(duration: DurationValue): this {
    this.given('afterWaitingFor', this.waitModifier(), 'a node has one wait');
    this.waitFor = duration;
    return this;
  }
  /** Leave the node unprocessed (history message "skipped") if `condition` holds; checked before any waiting. Given again, any condition skips. */
  skipIf(condition: Condition): this {
    this.skipIfCondition = this.skipIfCondition === undefined ? condition : anyOf(this.skipIfCondition, condition);
    return this;
  }
  /** Skip the node once `duration` ms have passed since it was entered, even while it still waits. Once per node. */
  skipAfter(duration: number): this {
    this.given('skipAfter', this.skipAfterMs === undefined ? undefined : 'skipAfter');
    this.skipAfterMs = duration;
    return this;
  }

  private waitModifier(): string | undefined {
    if (this.waitUntil !== undefined) return 'afterWaitingUntil';
    return this.waitFor === undefined ? undefined : 'afterWaitingFor';
  }
  /** A human-readable purpose of the node, for task lists and graphs. */
  describe(text: string): this {
    this.description = text;
    return this;
  }
}

/**
 * Runs a function (sync or async) and stores its JSON result. Subclass it and override
 * `method` to make named node types.
 * @example
 * class SendMail extends ExecuteNode {
 *   constructor(readonly template: string) { super(); }
 *   override method(ctx: NodeContext) { return mailer.send(this.template, ctx.data.email, ctx.idempotencyKey); }
 * }
 */
export class ExecuteNode<R extends string = never> extends AutomationNode<R> {
  readonly kind = 'execute' as const;
  onErrorTarget: string | undefined;
  constructor(readonly fn?: ExecuteFn) {
    super();
  }
  /** The work of the node; without a function it is a no-op (used to remove nodes safely). */
  method(ctx: NodeContext): unknown {
    return this.fn?.(ctx);
  }
  /** Where to continue when `method` throws; without it, an error stops the path. */
  onError<T extends string>(node: T): ExecuteNode<R | T> {
    this.given('onError', this.onErrorTarget === undefined ? undefined : 'onError');
    this.onErrorTarget = node;
    return this as never;
  }
}

/** Ends the instance: sets its finished flag and closes every open path. */
export class EndNode<R extends string = never> extends AutomationNode<R> {
  readonly kind = 'end' as const;
}

/** The repetition pattern of a Repeat node. */
export type RepeatSchedule =
  | { type: 'at'; hour: number; minute: number }
  | { type: 'interval'; ms: number };

/** Waits for the next slot of its schedule, then resumes at `start` (default: the first node). */
export class RepeatNode<R extends string = never> extends AutomationNode<R> {
  readonly kind = 'repeat' as const;
  schedule: RepeatSchedule | undefined;
  constructor(readonly start?: string) {
    super();
  }
  /** Every day at `hour:minute` UTC. */
  at(hour: number, minute = 0): this {
    this.scheduled('at');
    this.schedule = { type: 'at', hour, minute };
    return this;
  }
  /** Every `hours` hours, counted from when the node first executes. */
  everyHour(hours = 1): this {
    this.scheduled('everyHour');
    this.schedule = { type: 'interval', ms: hours * 3_600_000 };
    return this;
  }
  /** Every `minutes` minutes, counted from when the node first executes. */
  everyNMinutes(minutes: number): this {
    this.scheduled('everyNMinutes');
    this.schedule = { type: 'interval', ms: minutes * 60_000 };
    return this;
  }
  /** Every `days` days, counted from when the node first executes. */
  everyNDays(days: number): this {
    this.scheduled('everyNDays');
    this.schedule = { type: 'interval', ms: days * 86_400_000 };
    return this;
  }
  /** Once a day, counted from when the node first executes. */
  everyDay(): this {
    this.scheduled('everyDay');
    this.schedule = { type: 'interval', ms: 86_400_000 };
    return this;
  }
  private scheduledBy: string | undefined;
  /** One schedule per Repeat node, as the reference refuses "Multiple interval statements". */
  private scheduled(modifier: string): void {
    this.given(modifier, this.scheduledBy, 'a repeat has one schedule');
    this.scheduledBy ??= modifier;
  }
}

/** A branch of an If node: a node to continue with, or a function to execute before the next node. */
export type Branch = { node: string } | { fn: ExecuteFn };

/**
 * Branches on a condition: `.thenDo(...)` if it holds, else `.elseDo(...)` or the next node
 * (django's `.Then()`/`.Else()`; a method named `then` would make every node a thenable).
 */
export class IfNode<R extends string = never> extends AutomationNode<R> {
  readonly kind = 'if' as const;
  thenBranch: Branch | undefined;
  elseBranch: Branch | undefined;
  constructor(readonly condition: Condition) {
    super();
  }
  /** Continue at `branch` (a node name) or execute it (a function) when the condition holds. */
  thenDo(branch: ExecuteFn): IfNode<R>;
  thenDo<T extends string>(branch: T): IfNode<R | T>;
  thenDo(branch: string | ExecuteFn): IfNode<string> {
    this.given('thenDo', this.thenBranch === undefined ? undefined : 'thenDo');
    this.thenBranch = typeof branch === 'function' ? { fn: branch } : { node: branch };
    return this as never;
  }
  /** Continue at `branch` (a node name) or execute it (a function) when the condition fails. */
  elseDo(branch: ExecuteFn): IfNode<R>;
  elseDo<T extends string>(branch: T): IfNode<R | T>;
  elseDo(branch: string | ExecuteFn): IfNode<string> {
    this.given('elseDo', this.elseBranch === undefined ? undefined : 'elseDo');
    this.elseBranch = typeof branch === 'function' ? { fn: branch } : { node: branch };
    return this as never;
  }
}

/** Starts one parallel path per `.next(node)`; all of them must arrive at the same Join. */
export class SplitNode<R extends string = never> extends AutomationNode<R> {
  readonly kind = 'split' as const;
  /** Adds a path starting at `node` (call once per path). */
  override next<T extends string>(node: T): WithRefs<this, R | T> {
    this.nextTargets = [...this.nextTargets, node];
    return this as never;
  }
}

/** Waits until every path started by the matching Split has arrived, then continues as one. */
export class JoinNode<R extends string = never> extends AutomationNode<R> {
  readonly kind = 'join' as const;
}

/** Who may process a form: every given condition must hold; superusers always may. */
export interface FormAssignment {
  user?: string;
  group?: string;
  permissions: string[];
}

/** A human step: waits until an assigned user submits input that passes `schema`. */
export class FormNode<R extends string = never> extends AutomationNode<R> {
  readonly kind = 'form' as const;
  readonly assignment: FormAssignment = { permissions: [] };
  /**
   * The fields the form still needs, given the instance data (a django-ws task: its required
   * parameters that neither the workflow, the node nor the data supply); `openForms` lists them.
   */
  missingFields: ((data: AutomationData) => string[]) | undefined;
  constructor(readonly schema: StandardSchemaV1) {
    super();
  }
  /** Only this user (by id) may process the form. */
  user(id: string): this {
    this.given('user', this.assignment.user === undefined ? undefined : 'user');
    this.assignment.user = id;
    return this;
  }
  /** Only members of this group may process the form. */
  group(name: string): this {
    this.given('group', this.assignment.group === undefined ? undefined : 'group');
    this.assignment.group = name;
    return this;
  }
  /** Only users holding this permission may process the form; repeat to require several. */
  permission(codename: string): this {
    this.assignment.permissions.push(codename);
    return this;
  }
}

/**
 * Where SendMessage delivers: one instance (by id, or computed from the context), every
 * running instance of an automation, or `{ browser: true }`: the browser flows watching this
 * instance (recorded durably in the history row, pushed over the sync API's event stream).
 */
export type MessageTarget = string | ((ctx: NodeContext) => string) | { automation: string } | { browser: true };

/** Sends a message to another instance, broadcasts it to all running instances of an automation, or tells the watching browsers (`{ browser: true }`). */
export class SendMessageNode<R extends string = never> extends AutomationNode<R> {
  readonly kind = 'send-message' as const;
  constructor(
    readonly target: MessageTarget,
    readonly message: string,
    readonly token?: string,
    readonly payload?: AutomationData | ((ctx: NodeContext) => AutomationData),
  ) {
    super();
  }
}

/** Any node, whatever it refers to; `kind` tells which. */
export type AnyNode =
  | ExecuteNode<string>
  | EndNode<string>
  | RepeatNode<string>
  | IfNode<string>
  | SplitNode<string>
  | JoinNode<string>
  | FormNode<string>
  | SendMessageNode<string>;

/**
 * Node constructors, named as in django-automations.
 * @example
 * nodes: {
 *   start: flow.execute(init),
 *   check: flow.if((ctx) => ctx.data.ok).thenDo('end').elseDo('start').afterWaitingFor(hours(1)),
 *   end: flow.end(),
 * }
 */
export const flow = {
  /** Execute: run `fn` (or nothing: a no-op) and store its result. */
  execute: (fn?: ExecuteFn): ExecuteNode => new ExecuteNode(fn),
  /** End: finish the instance. */
  end: (): EndNode => new EndNode(),
  /** Repeat: wait for the schedule's next slot, then resume at `start` or the first node. */
  repeat: <T extends string = never>(start?: T): RepeatNode<T> => new RepeatNode(start) as RepeatNode<T>,
  /** If: branch on `condition` with `.thenDo()` / `.elseDo()`. */
  if: (condition: Condition): IfNode => new IfNode(condition),
  /** Split: one parallel path per `.next()`. */
  split: (): SplitNode => new SplitNode(),
  /** Join: wait for all paths of the split. */
  join: (): JoinNode => new JoinNode(),
  /** Form: a human step validated by a Standard Schema (zod, valibot, …). */
  form: (schema: StandardSchemaV1): FormNode => new FormNode(schema),
  /** SendMessage: deliver `message` to another instance or broadcast it. */
  sendMessage: (
    target: MessageTarget,
    message: string,
    token?: string,
    payload?: AutomationData | ((ctx: NodeContext) => AutomationData),
  ): SendMessageNode => new SendMessageNode(target, message, token, payload),
};

/** A condition that holds when both hold (repeated `.asSoonAs()`). */
function allOf(first: Condition, second: Condition): Condition {
  return async (ctx) => Boolean(await evaluate(first, ctx)) && Boolean(await evaluate(second, ctx));
}

/** A condition that holds when either holds (repeated `.skipIf()`). */
function anyOf(first: Condition, second: Condition): Condition {
  return async (ctx) => Boolean(await evaluate(first, ctx)) || Boolean(await evaluate(second, ctx));
}

function evaluate(condition: Condition, ctx: NodeContext): unknown {
  return typeof condition === 'function' ? condition(ctx) : condition;
}
