import type { AnyAction, Flow, FlowNode } from './definition.ts';
import { type DirectiveMove, directiveMove, type TreeDirective } from './directives.ts';
import type { DefinitionProblem } from './errors.ts';

/** A node of a flow together with everything its position implies. */
export interface NodeInfo {
  readonly node: FlowNode | Flow;
  readonly id: string;
  readonly parent: NodeInfo | null;
  /** The sibling that runs after this node when it completes: the next child of an action or a linear scaffold. */
  readonly next?: NodeInfo | undefined;
  /** The children, in declaration order. */
  readonly children: readonly NodeInfo[];
  /** Ids from the root down to this node, for definition errors: `checkout > identify > login` (empty in production builds). */
  readonly where: string;
  /** URL path of the node below the flow's mount point: `/identify/login`. */
  readonly url: string;
}

/** The indexed flow: every node by id, plus the problems found while indexing. */
export interface FlowModel {
  readonly flow: Flow;
  readonly root: NodeInfo;
  readonly nodes: ReadonlyMap<string, NodeInfo>;
  readonly problems: DefinitionProblem[];
}

/**
 * A place control can go: a node id (entering it), `id.$returned` (an action
 * whose ENTERed children are done), or the final `$completed` / `$aborted`.
 */
export type Destination = string;

export const COMPLETED = '$completed';
export const ABORTED = '$aborted';
const ID = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** True for nodes that wait for the user: non-auto actions and choice scaffolds. */
export function isStep(node: FlowNode | Flow): boolean {
  return node.kind === 'action' ? !node.auto : node.transitions === 'choice';
}

/** Indexes a flow tree, noting malformed ids, duplicates and empty scaffolds. */
export function buildModel(flow: Flow): FlowModel {
  const nodes = new Map<string, NodeInfo>();
  const problems: DefinitionProblem[] = [];
  const visit = (node: FlowNode | Flow, parent: NodeInfo | null): NodeInfo => {
    const where = process.env.NODE_ENV === 'production' ? '' : parent ? `${parent.where} > ${node.id}` : String(node.id);
    const url = parent ? `${parent.url}/${node.path ?? node.id}` : '';
    // `children` is filled in below, once the children know their parent.
    const info = { node, id: node.id, parent, where, url } as { -readonly [K in keyof NodeInfo]: NodeInfo[K] };
    const seen = nodes.get(node.id);
    if (!seen) nodes.set(node.id, info);
    if (process.env.NODE_ENV !== 'production') lint(node, where, seen, problems);
    const children = node.children?.map((child) => visit(child, info)) ?? [];
    info.children = children;
    if (node.kind === 'action' || node.transitions === 'linear') {
      children.forEach((child, i) => {
        (child as typeof info).next = children[i + 1];
      });
    }
    return info;
  };
  const root = visit(flow, null);
  return { flow, root, nodes, problems };
}

/** Problems of one node that indexing sees: malformed ids, duplicates, empty scaffolds, clashing path segments. */
function lint(node: FlowNode | Flow, where: string, seen: NodeInfo | undefined, problems: DefinitionProblem[]) {
  if (typeof node.id !== 'string' || !ID.test(node.id)) {
    problems.push({ path: where, message: `id "${node.id}" must start with a letter and hold only letters, digits, "-" and "_"` });
  }
  if (seen) problems.push({ path: where, message: `duplicate id "${node.id}" (also at ${seen.where})` });
  if (node.kind === 'scaffold' && node.children.length === 0) {
    problems.push({ path: where, message: 'scaffold has no children; give it at least one action or scaffold' });
  }
  const segments = new Set<string>();
  for (const child of node.children ?? []) {
    const segment = child.path ?? child.id;
    if (segments.has(segment)) problems.push({ path: `${where} > ${child.id}`, message: `path segment "${segment}" is used twice in "${node.id}"` });
    segments.add(segment);
  }
}

/** The destination of a move: a scaffold has no return-from-children hook, so going back to it goes on after it. */
function destinationOfMove(move: DirectiveMove<NodeInfo> | undefined): Destination | undefined {
  if (!move) return undefined;
  if ('run' in move) return move.run.id;
  const back = move.back;
  if (!back) return COMPLETED;
  return back.node.kind === 'action' ? `${back.id}.$returned` : destinationOfMove(directiveMove(back, 'continue'));
}

/**
 * Where a directive of the node leads (see `directiveMove`): a node id, `id.$returned` (the
 * action's `returnFromChildren` decides), or `$completed`; `undefined` for ENTER without children.
 */
export function destinationOf(info: NodeInfo, directive: TreeDirective): Destination | undefined {
  return destinationOfMove(directiveMove(info, directive));
}

/** Where control goes when `info` is done and its parent decides (the `complete` outcome). */
export function finishDestination(info: NodeInfo): Destination {
  return destinationOf(info, 'continue')!;
}

/** The nodes entered, outermost first, when control enters `info` and every gate passes. */
export function entryChain(info: NodeInfo, nodes: ReadonlyMap<string, NodeInfo>): NodeInfo[] {
  const chain = [info];
  let node = info.node;
  while (node.kind === 'scaffold' && node.transitions !== 'choice' && node.children[0]) {
    const first = nodes.get(node.children[0].id);
    if (!first) break;
    chain.push(first);
    node = first.node;
  }
  return chain;
}

/** The step or final state that entering `destination` shows when every gate passes. */
export function landingOf(destination: Destination, nodes: ReadonlyMap<string, NodeInfo>): Destination {
  const info = nodes.get(destination);
  return info ? entryChain(info, nodes).at(-1)!.id : destination;
}

/** Every destination an action's declared behaviour can lead to, for reachability and graphs. */
export function actionEdges(info: NodeInfo): { label: string; to: Destination }[] {
  const node = info.node as AnyAction;
  const edges = [{ label: 'complete', to: finishDestination(info) }];
  for (const target of node.targets ?? []) edges.push({ label: `goTo ${target}`, to: target });
  if (node.onError) edges.push({ label: 'on error', to: node.onError });
  const first = node.children?.[0];
  if (first) edges.push({ label: 'enter', to: first.id });
  return edges;
}

/** Fallback destinations of a node's preconditions. */
export function fallbackEdges(info: NodeInfo): { label: string; to: Destination }[] {
  return (info.node.preconditions ?? [])
    .filter((p) => p.fallback)
    .map((p) => ({ label: `unless ${p.name}`, to: p.fallback! }));
}
