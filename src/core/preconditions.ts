import type { User } from './outcomes.ts';

/** What a precondition can look at: the task data and the signed-in user. */
export interface PreconditionContext {
  data: Record<string, unknown>;
  user: User | null;
}

/**
 * A check made before a step is entered. When it fails the step is never
 * shown: the task goes to `fallback` (an action or scaffold id) if given,
 * otherwise the move is refused with a `PreconditionError`.
 */
export interface Precondition {
  /** Names the condition in errors and graphs, e.g. `requiredState(item)`. */
  name: string;
  test: (ctx: PreconditionContext) => boolean;
  fallback?: string;
}

/** Requires every key to be present (not `undefined` or `null`) in the task data. */
export function requiredState(...keys: string[]): Precondition {
  return {
    name: `requiredState(${keys.join(', ')})`,
    test: ({ data }) => keys.every((k) => data[k] != null),
  };
}

/** Requires a signed-in user. */
export function signedIn(): Precondition {
  return { name: 'signedIn()', test: ({ user }) => user != null };
}

/** A custom precondition from a predicate. */
export function precondition(name: string, test: (ctx: PreconditionContext) => boolean): Precondition {
  return { name, test };
}

/** The same precondition, but failing sends the task to `fallback` instead of refusing. */
export function orGoTo(pre: Precondition, fallback: string): Precondition {
  return { ...pre, fallback };
}

/** The first of a node's preconditions that fails in `context` (undefined when they all pass): a choice offers only children without one. */
export function failingPrecondition(node: { preconditions?: readonly Precondition[] }, context: PreconditionContext): Precondition | undefined {
  return (node.preconditions ?? []).find((p) => !p.test(context));
}
