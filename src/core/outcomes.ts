import type { FieldErrors } from './schema.ts';

/** The signed-in user, as far as preconditions and the audit history need to know. */
export interface User {
  id: string;
  [key: string]: unknown;
}

/** What an outcome may change besides the position: a patch merged into the task data (of type `Data`), and the user. */
export interface OutcomeEffects<Data = Record<string, unknown>> {
  /** Shallow-merged into the task data. */
  data?: Data;
  /** Signs a user in (an object) or out (`null`). */
  user?: User | null;
}

/**
 * Where a submitted step leads. `complete` lets the parent scaffold decide;
 * `goto` names a declared target; the rest are the django-flowcontrol directives.
 * `Data` is the type of the patch merged into the task data (see `FlowData`).
 */
export type Outcome<Target extends string = string, Data = Record<string, unknown>> =
  | ({ type: 'complete' | 'continue' | 'enter' | 'leave' | 'break' } & OutcomeEffects<Data>)
  | ({ type: 'goto'; to: Target } & OutcomeEffects<Data>)
  | ({ type: 'abort'; reason?: string } & OutcomeEffects<Data>)
  | ({ type: 'suspend' | 'suspend-and-repeat'; until: number } & OutcomeEffects<Data>)
  | { type: 'fail'; message: string; fields?: FieldErrors };

/** A data patch an outcome may carry. */
type Patch = Record<string, unknown>;

/** The outcome kinds that move the task (every kind but `fail`). */
export type MovingOutcome = Exclude<Outcome, { type: 'fail' }>;

const at = (until: Date | number) => (typeof until === 'number' ? until : until.getTime());
const directive =
  (type: 'continue' | 'enter' | 'leave' | 'break') =>
  <D extends Patch = never>(data?: D): Outcome<never, D> => ({ type, data });
const pause =
  (type: 'suspend' | 'suspend-and-repeat') =>
  <D extends Patch = never>(until: Date | number, data?: D): Outcome<never, D> => ({ type, until: at(until), data });

/**
 * Outcome constructors for `submit`.
 * @example
 * submit: async (data, input) =>
 *   (await signIn(input)) ? outcome.complete({ user }) : outcome.fail('Wrong password', { password: ['Wrong password'] })
 */
export const outcome = {
  /** Done with this step: the parent scaffold's transition policy picks the next one. */
  complete: <D extends Patch = never>(data?: D, user?: User | null): Outcome<never, D> => ({ type: 'complete', data, user }),
  /** Go to the named action or scaffold, which the action must list in `targets`. */
  goTo: <T extends string, D extends Patch = never>(to: T, data?: D): Outcome<T, D> => ({ type: 'goto', to, data }),
  /** CONTINUE: the next sibling in declaration order, whatever the parent's policy. */
  continue: directive('continue'),
  /** ENTER: run this action's own children. */
  enter: directive('enter'),
  /** LEAVE: back to the parent at once, whose `returnFromChildren` decides (a scaffold goes on after itself). */
  leave: directive('leave'),
  /** BREAK: past the parent, without its `returnFromChildren` (`break` in a loop). */
  break: directive('break'),
  /** ABORT: stop the task for good. */
  abort: (reason?: string): Outcome<never, never> => ({ type: 'abort', reason }),
  /** SUSPEND: pause until `until`, then continue with the next sibling. */
  suspend: pause('suspend'),
  /** SUSPEND_AND_REPEAT: pause until `until`, then run this step again. */
  suspendAndRepeat: pause('suspend-and-repeat'),
  /** Stay on this step and show `message` (and per-field errors) to the user. */
  fail: (message: string, fields?: FieldErrors): Outcome<never, never> => ({ type: 'fail', message, fields }),
};
