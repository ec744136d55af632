import type { Outcome, User } from './outcomes.ts';
import type { Precondition } from './preconditions.ts';
import type { InferOutput, StandardSchemaV1 } from './schema.ts';

/** The data a task accumulates, shared by all its steps. */
export type TaskData = Record<string, unknown>;

/** What `submit` gets besides the data and the input. */
export interface SubmitContext<Target extends string = string> {
  taskId: string;
  step: string;
  /** How many times this step has been entered in this task (1 on the first visit). */
  visit: number;
  /** `taskId:step:visit`: pass it to side effects so a double click or a retry never applies twice. */
  idempotencyKey: string;
  user: User | null;
  /** Typed `outcome.goTo` restricted to this action's declared targets. */
  goTo(to: Target, data?: Record<string, unknown>): Outcome<Target>;
}

/** What an action's `submit` may return: an outcome, or nothing for `complete`. */
// biome-ignore lint/suspicious/noConfusingVoidType: lets a submit without a return statement type-check
export type SubmitResult<Target extends string> = Outcome<Target> | undefined | void;

/** One reusable step: a form (or, with `auto`, a step that runs without input). */
export interface Action<Input = unknown, Target extends string = string> {
  readonly kind: 'action';
  readonly id: string;
  readonly title: string;
  /** URL path segment of this step; defaults to the id. */
  readonly path?: string;
  /** Validates the submitted input; field errors go back to the user and nothing moves. */
  readonly schema?: StandardSchemaV1<unknown, Input>;
  readonly preconditions?: readonly Precondition[];
  /** The actions and scaffolds this action may `goTo`; checked when the flow is compiled. */
  readonly targets?: readonly Target[];
  /** Runs on entry without waiting for input (a computation or a service call). */
  readonly auto?: boolean;
  /**
   * Where the task goes when this action's automatic step fails (its `submit` with `auto`, or
   * its `returnFromChildren`, throws or returns `fail`), instead of waiting for `retry()`:
   * an action or scaffold of the flow, like django-fsm's `on_error` state. Form steps that
   * fail stay for the user to submit again.
   */
  readonly onError?: string;
  /** Sub-steps run when `submit` returns ENTER; run in declaration order. */
  readonly children?: readonly FlowNode[];
  /** Decides where the step leads. Without it, the input is stored under the action id and the step completes. */
  submit?(data: TaskData, input: Input, ctx: SubmitContext<Target>): SubmitResult<Target> | Promise<SubmitResult<Target>>;
  /** Runs when the children entered by ENTER are done (django-flowcontrol's `return_from_children`); defaults to `continue`. */
  returnFromChildren?(data: TaskData, ctx: SubmitContext<Target>): SubmitResult<Target> | Promise<SubmitResult<Target>>;
  /** Free-form hints for views (a description, labels, anything the UI wants). */
  readonly meta?: Record<string, unknown>;
}

/** How a scaffold moves between its children: declaration order, named targets, or the user's pick. */
export type TransitionPolicy = 'linear' | 'explicit' | 'choice';

/** Groups actions and scaffolds; its `transitions` policy decides where a completed child leads. */
export interface Scaffold {
  readonly kind: 'scaffold';
  readonly id: string;
  readonly title: string;
  readonly path?: string;
  readonly transitions: TransitionPolicy;
  readonly children: readonly FlowNode[];
  readonly preconditions?: readonly Precondition[];
  readonly meta?: Record<string, unknown>;
}

/** An action of any input type, as it sits in a flow tree. */
// biome-ignore lint/suspicious/noExplicitAny: an action's input type is erased once it joins a tree
export type AnyAction = Action<any, string>;

/** A node of a flow tree. */
export type FlowNode = AnyAction | Scaffold;

/** A whole flow: the root scaffold plus identity and limits. */
export interface Flow extends Scaffold {
  readonly version: number;
  /** Automatic steps allowed in a row for one step without user input (default 10). */
  readonly maxHotLoop?: number;
  /** How long a task of this flow may sit idle before it expires (default 20 minutes); `idleTimeoutMs` of the task options overrides it. */
  readonly idleTimeoutMs?: number;
}

type ActionInit<S, T extends string> = Omit<Action<InferOutput<S>, T>, 'kind' | 'schema' | 'targets'> & {
  schema?: S;
  targets?: readonly T[];
};

/**
 * Declares an action. The input type is inferred from `schema`, the target names from `targets`.
 * @example
 * const email = action({ id: 'email', title: 'Your email', schema: z.object({ email: z.email() }) });
 */
export function action<S extends StandardSchemaV1 | undefined = undefined, T extends string = never>(
  init: ActionInit<S, T>,
): Action<InferOutput<S>, T> {
  return { kind: 'action', ...init } as Action<InferOutput<S>, T>;
}

/**
 * Declares a scaffold. Linear by default.
 * @example
 * const identify = scaffold({ id: 'identify', title: 'Tell us who you are', transitions: 'choice', children: [login, register] });
 */
export function scaffold(init: Omit<Scaffold, 'kind' | 'transitions'> & { transitions?: TransitionPolicy }): Scaffold {
  return { kind: 'scaffold', transitions: 'linear', ...init };
}

/**
 * Declares a flow: the root scaffold with an id and a version.
 * @example
 * const signup = defineFlow({ id: 'signup', version: 1, title: 'Sign up', children: [email, password] });
 */
export function defineFlow(init: Omit<Flow, 'kind' | 'transitions' | 'version'> & { transitions?: TransitionPolicy; version?: number }): Flow {
  return { kind: 'scaffold', transitions: 'linear', version: 1, ...init };
}
