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
  /** `taskId:step:visit`: pass it to side effects so a double click or a retry never applies twice; a visit after Back/Forward gets a new one. */
  idempotencyKey: string;
  /** `taskId:step`: the same on every visit of this step, for side effects meant once per task (open one account, whatever Back does). */
  stepKey: string;
  user: User | null;
  /** Typed `outcome.goTo` restricted to this action's declared targets. */
  goTo<D extends Record<string, unknown> = never>(to: Target, data?: D): Outcome<Target, D>;
}

/** What an action's `submit` may return: an outcome, or nothing for `complete`. */
// biome-ignore lint/suspicious/noConfusingVoidType: lets a submit without a return statement type-check
export type SubmitResult<Target extends string> = Outcome<Target> | undefined | void;

/**
 * Types only, never set at runtime: what a node tells the type system about the task data it
 * writes and the step ids it holds (itself and its descendants), read by `FlowData` and `StepId`.
 */
export interface NodeTypes<Data, Steps extends string> {
  readonly data: Data;
  readonly steps: Steps;
}

/** One reusable step: a form (or, with `auto`, a step that runs without input). */
export interface Action<Input = unknown, Target extends string = string, Id extends string = string, Data = unknown, Steps extends string = string> {
  readonly kind: 'action';
  readonly id: Id;
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
  /** Types only (see `NodeTypes`). */
  readonly '~types'?: NodeTypes<Data, Steps>;
}

/** How a scaffold moves between its children: declaration order, named targets, or the user's pick. */
export type TransitionPolicy = 'linear' | 'explicit' | 'choice';

/** Groups actions and scaffolds; its `transitions` policy decides where a completed child leads. */
export interface Scaffold<Id extends string = string, Data = unknown, Steps extends string = string> {
  readonly kind: 'scaffold';
  readonly id: Id;
  readonly title: string;
  readonly path?: string;
  readonly transitions: TransitionPolicy;
  readonly children: readonly FlowNode[];
  readonly preconditions?: readonly Precondition[];
  readonly meta?: Record<string, unknown>;
  /** Types only (see `NodeTypes`). */
  readonly '~types'?: NodeTypes<Data, Steps>;
}

/** An action of any input type, as it sits in a flow tree. */
// biome-ignore lint/suspicious/noExplicitAny: an action's input type is erased once it joins a tree
export type AnyAction = Action<any, string>;

/** A node of a flow tree. */
export type FlowNode = AnyAction | Scaffold;

/** A whole flow: the root scaffold plus identity and limits. */
export interface Flow<Id extends string = string, Data = unknown, Steps extends string = string> extends Scaffold<Id, Data, Steps> {
  readonly version: number;
  /** Automatic steps allowed in a row for one step without user input (default 10). */
  readonly maxHotLoop?: number;
  /** How long a task of this flow may sit idle before it expires (default 20 minutes); `idleTimeoutMs` of the task options overrides it. */
  readonly idleTimeoutMs?: number;
}

/**
 * The data a task of flow `F` holds, all optional: each form action's parsed input under its id,
 * each choice scaffold's pick under its id, and the keys its `submit` outcomes merge in; any other
 * key reads as `unknown`.
 */
export type FlowData<F> = (F extends { readonly '~types'?: NodeTypes<infer D, string> } ? D : unknown) & TaskData;

/** The step ids (actions and scaffolds) of flow `F`; `string` for a flow whose type is not known. */
export type StepId<F> = F extends { readonly '~types'?: NodeTypes<unknown, infer S> } ? S : string;

/** What node `N` writes into the task data (never when that is not known). */
type DataOf<N> = N extends { readonly '~types'?: NodeTypes<infer D, string> } ? (unknown extends D ? never : D) : never;

/** The keys of any member of `U`. */
type KeysOf<U> = U extends unknown ? keyof U : never;

/** Merges the object types of `U` into one: every key optional, holding what any member holds there. */
type Merge<U> = [U] extends [never] ? unknown : { [K in KeysOf<U>]?: U extends unknown ? (K extends keyof U ? Exclude<U[K], undefined> : never) : never };

/** The step ids held by the nodes of `C`. */
type ChildSteps<C extends readonly FlowNode[]> = NonNullable<C[number]['~types']>['steps'];

/** What a `choice` scaffold stores: the id of the child picked, under its own id. */
type Choice<Id extends string, C extends readonly FlowNode[], P> = P extends 'choice' ? (string extends Id ? never : { [K in Id]: C[number]['id'] }) : never;

/** The data patches the outcomes `R` of a `submit` carry; a patch typed only as `Record<string, unknown>` says nothing. */
type Writes<R> = R extends { data?: infer D } ? (D extends Record<string, unknown> ? (string extends keyof D ? never : D) : never) : never;

type ActionInit<Id extends string, S, T extends string, C> = Omit<Action<InferOutput<S>, T>, 'kind' | 'id' | 'schema' | 'targets' | 'children' | 'submit' | '~types'> & {
  id: Id;
  schema?: S;
  targets?: readonly T[];
  children?: C;
};

/** What an action without `submit` stores: its parsed input under its id, when it has a schema. */
type Stored<Id extends string, S> = [S] extends [undefined] ? never : string extends Id ? never : { [K in Id]: InferOutput<S> };

/**
 * Declares an action. The input type is inferred from `schema`, the target names from `targets`,
 * and what it stores in the task data from both (see `FlowData`).
 * @example
 * const email = action({ id: 'email', title: 'Your email', schema: z.object({ email: z.email() }) });
 */
export function action<const Id extends string, S extends StandardSchemaV1 | undefined = undefined, T extends string = never, const C extends readonly FlowNode[] = readonly []>(
  init: ActionInit<Id, S, T, C> & { submit?: undefined },
): Action<InferOutput<S>, T, Id, Merge<Stored<Id, S> | DataOf<C[number]>>, Id | ChildSteps<C>>;
export function action<
  const Id extends string,
  S extends StandardSchemaV1 | undefined = undefined,
  T extends string = never,
  const C extends readonly FlowNode[] = readonly [],
  R extends SubmitResult<string> = undefined,
>(
  init: ActionInit<Id, S, T, C> & { submit?: (data: TaskData, input: InferOutput<S>, ctx: SubmitContext<T>) => R | Promise<R> },
): Action<InferOutput<S>, T, Id, Merge<Writes<R> | DataOf<C[number]>>, Id | ChildSteps<C>>;
export function action(init: object): AnyAction {
  return { kind: 'action', ...init } as AnyAction;
}

type ScaffoldInit<Id extends string, C, P> = Omit<Scaffold, 'kind' | 'id' | 'transitions' | 'children' | '~types'> & { id: Id; children: C; transitions?: P };

/**
 * Declares a scaffold. Linear by default.
 * @example
 * const identify = scaffold({ id: 'identify', title: 'Tell us who you are', transitions: 'choice', children: [login, register] });
 */
export function scaffold<const Id extends string, const C extends readonly FlowNode[], P extends TransitionPolicy = 'linear'>(
  init: ScaffoldInit<Id, C, P>,
): Scaffold<Id, Merge<DataOf<C[number]> | Choice<Id, C, P>>, Id | ChildSteps<C>> {
  return { kind: 'scaffold', transitions: 'linear', ...init } as never;
}

/**
 * Declares a flow: the root scaffold with an id and a version. Its type carries the step ids
 * and the shape of the task data (see `FlowData`, `StepId`).
 * @example
 * const signup = defineFlow({ id: 'signup', version: 1, title: 'Sign up', children: [email, password] });
 */
export function defineFlow<const Id extends string, const C extends readonly FlowNode[], P extends TransitionPolicy = 'linear'>(
  init: Omit<Flow, 'kind' | 'id' | 'transitions' | 'version' | 'children' | '~types'> & { id: Id; children: C; transitions?: P; version?: number },
): Flow<Id, Merge<DataOf<C[number]> | Choice<Id, C, P>>, ChildSteps<C>> {
  return { kind: 'scaffold', transitions: 'linear', version: 1, ...init } as never;
}
