import type { FieldErrors } from './schema.ts';

/** The signed-in user, as far as preconditions and the audit history need to know. */
export interface User {
  id: string;
  [key: string]: unknown;
}

/** What an outcome may change besides the position: a patch merged into the task data, and the user. */
export interface OutcomeEffects {
  /** Shallow-merged into the task data. */
  data?: Record<string, unknown>;
  /** Signs a user in (an object) or out (`null`). */
  user?: User | null;
}

/**
 * Where a submitted step leads. `complete` lets the parent scaffold decide;
 * `goto` names a declared target; the rest are the django-flowcontrol directives.
 */
export type Outcome<Target extends string = string> =
  | ({ type: 'complete' | 'continue' | 'enter' | 'leave' | 'break' } & OutcomeEffects)
  | ({ type: 'goto'; to: Target } & OutcomeEffects)
  | ({ type: 'abort'; reason?: string } & OutcomeEffects)
  | ({ type: 'suspend' | 'suspend-and-repeat'; until: number } & OutcomeEffects)
  | { type: 'fail'; message: string; fields?: FieldErrors };

/** The outcome kinds that move the task (every kind but `fail`). */
export type MovingOutcome = Exclude<Outcome, { type: 'fail' }>;

const at = (until: Date | number) => (typeof until === 'number' ? until : until.getTime());
const directive =
  (type: 'continue' | 'enter' | 'leave' | 'break') =>
  (data?: Record<string, unknown>): Outcome<never> => ({ type, data });
const pause =
  (type: 'suspend' | 'suspend-and-repeat') =>
  (until: Date | number, data?: Record<string, unknown>): Outcome<never> => ({ type, until: at(until), data });

/**
 * Outcome constructors for `submit`.
 * @example
 * submit: async (data, input) =>
 *   (await signIn(input)) ? outcome.complete({ user }) : outcome.fail('Wrong password', { password: ['Wrong password'] })
 */
export const outcome = {
  /** Done with this step: the parent scaffold's transition policy picks the next one. */
  complete: (data?: Record<string, unknown>, user?: User | null): Outcome<never> => ({ type: 'complete', data, user }),
  /** Go to the named action or scaffold, which the action must list in `targets`. */
  goTo: <T extends string>(to: T, data?: Record<string, unknown>): Outcome<T> => ({ type: 'goto', to, data }),
  /** CONTINUE: the next sibling in declaration order, whatever the parent's policy. */
  continue: directive('continue'),
  /** ENTER: run this action's own children. */
  enter: directive('enter'),
  /** LEAVE: back to the parent at once, whose `returnFromChildren` decides (a scaffold goes on after itself). */
  leave: directive('leave'),
  /** BREAK: past the parent, without its `returnFromChildren` (`break` in a loop). */
  break: directive('break'),
  /** ABORT: stop the task for good. */
  abort: (reason?: string): Outcome<never> => ({ type: 'abort', reason }),
  /** SUSPEND: pause until `until`, then continue with the next sibling. */
  suspend: pause('suspend'),
  /** SUSPEND_AND_REPEAT: pause until `until`, then run this step again. */
  suspendAndRepeat: pause('suspend-and-repeat'),
  /** Stay on this step and show `message` (and per-field errors) to the user. */
  fail: (message: string, fields?: FieldErrors): Outcome<never> => ({ type: 'fail', message, fields }),
};
