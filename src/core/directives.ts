/**
 * How often one step may run without user input before the flow is stopped as a hot loop
 * (django-flowcontrol's `MAX_HOT_LOOPS`): the default of the browser's `flow.maxHotLoop` and
 * of the server's flowcontrol runs alike.
 */
export const MAX_HOT_LOOPS = 100;

/** The django-flowcontrol directives that move within the tree of nested steps. */
export type TreeDirective = 'continue' | 'enter' | 'leave' | 'break';

/** A node of a tree of nested steps, as the directive rules see it. */
export interface TreeNode<N> {
  /** The node that holds this one, or null at the top level. */
  readonly parent: N | null;
  /** The node that runs after this one within its parent, if any. */
  readonly next?: N | undefined;
  readonly children: readonly N[];
}

/**
 * Where control goes: `run` a node, or go `back` to a node whose children are done, whose
 * return-from-children path decides; `back: null` is back past the top: the flow ends.
 */
export type DirectiveMove<N> = { run: N } | { back: N | null };

/**
 * The directive rules of django-flowcontrol, for the browser's flows and the server's
 * flowcontrol runs alike. CONTINUE runs the next sibling, or goes back to the parent after
 * the last one; ENTER runs the first child (`undefined` when there is none); LEAVE goes back
 * to the parent at once, whose return-from-children path decides (a loop enters its
 * children again, anything else goes on after itself); BREAK goes on after the parent
 * without asking it. At the top level LEAVE and BREAK end the flow.
 * @example
 * directiveMove(node, 'leave'); // { back: node.parent }
 */
export function directiveMove<N extends TreeNode<N>>(at: N, directive: TreeDirective): DirectiveMove<N> | undefined {
  if (directive === 'enter') {
    const first = at.children[0];
    return first && { run: first };
  }
  const next = directive === 'continue' ? at.next : undefined;
  if (next) return { run: next };
  const parent = at.parent;
  return directive === 'break' && parent ? directiveMove(parent, 'continue') : { back: parent };
}
