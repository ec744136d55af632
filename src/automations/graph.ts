import { type AutomationDefinition, nodeAfter } from './definition.ts';
import type { FlowAction, FlowDefinition } from './flowcontrol/flow.ts';
import type { AnyNode } from './nodes/nodes.ts';
import type { HistoryRow, InstanceState } from './state.ts';
import { wsWorkflowOf } from './ws/engine.ts';

/**
 * A process as a graph, for drawing (`ProcessMap` of `wayflow/react/map` takes it as it is):
 * its steps with a label and a kind, and the ways between them, branches labelled.
 */
export interface ProcessGraph {
  nodes: { id: string; label: string; kind: string }[];
  edges: { from: string; to: string; label?: string }[];
}

/**
 * The graph of an automation: for `defineAutomation` its nodes in declaration order with
 * `next` and default successors, If branches (`then` / `else`), Split paths and the Repeat
 * loop; for a django-ws workflow its nodes (human tasks as `form`) and transitions labelled by
 * their conditions. Node ids are the names the history and the open forms use.
 * @example
 * const graph = automationGraph(orderFulfilment); // <ProcessMap graph={graph} title="Orders" />
 */
export function automationGraph(definition: AutomationDefinition): ProcessGraph {
  const ws = wsWorkflowOf(definition);
  if (ws) {
    return {
      nodes: ws.json.nodes.map((n) => ({ id: n.name, label: n.name, kind: n.requires.length > 0 ? 'form' : n.subprocess !== undefined ? 'subprocess' : n.start ? 'start' : n.end ? 'end' : 'task' })),
      edges: ws.json.transitions.map((t) => ({
        from: t.from,
        to: t.to,
        ...(t.condition === undefined ? {} : { label: typeof t.condition === 'string' ? t.condition : `result = ${JSON.stringify(t.condition.resultEquals)}` }),
      })),
    };
  }
  const edges: ProcessGraph['edges'] = [];
  const nodes = definition.order.map((name) => {
    const node = (definition.nodes as Record<string, AnyNode>)[name]!;
    const after = nodeAfter(definition, name);
    const next = node.nextTargets[0] ?? after;
    const to = (target: string | undefined, label?: string) => {
      if (target !== undefined) edges.push({ from: name, to: target, ...(label === undefined ? {} : { label }) });
    };
    switch (node.kind) {
      case 'end':
        break;
      case 'repeat':
        to(node.start ?? definition.order[0], 'repeat');
        break;
      case 'if':
        to(node.thenBranch && 'node' in node.thenBranch ? node.thenBranch.node : next, 'then');
        to(node.elseBranch && 'node' in node.elseBranch ? node.elseBranch.node : next, 'else');
        break;
      case 'split':
        for (const target of node.nextTargets) to(target);
        break;
      default:
        to(next);
    }
    return { id: name, label: node.description || name, kind: node.kind };
  });
  return { nodes, edges };
}

/** What happened at one node of one instance: paths waiting there now, visits finished there, paths an error stopped there. */
export interface NodeVisitCounts {
  waiting: number;
  passed: number;
  errors: number;
}

/**
 * Per node of one instance, from its state and its history (the counts `ProcessMap` draws on
 * the automation's graph): `waiting` paths there now (active, at a form, at a join), `passed`
 * visits finished there (history rows closed, but not the row of a path still there), `errors`
 * paths an error stopped there. Nodes with nothing to count are left out.
 * @example
 * <ProcessMap graph={automationGraph(definition)} counts={instanceNodeCounts(instance, history)} title={definition.verboseName} />
 */
export function instanceNodeCounts(
  state: Pick<InstanceState, 'paths'>,
  history: readonly Pick<HistoryRow, 'taskId' | 'status' | 'finished'>[],
): Record<string, NodeVisitCounts> {
  const counts: Record<string, NodeVisitCounts> = {};
  const at = (node: string) => (counts[node] ??= { waiting: 0, passed: 0, errors: 0 });
  const current = new Set<number>();
  for (const path of state.paths) {
    current.add(path.taskId);
    if (path.status === 'error') at(path.node).errors += 1;
    else at(path.node).waiting += 1;
  }
  for (const row of history) if (row.finished !== null && !current.has(row.taskId)) at(row.status).passed += 1;
  return counts;
}

/**
 * The graph of a flowcontrol flow: its actions (ids are their positions, `0`, `0.1`…, as
 * action names may repeat in the tree), each leading to its next sibling (`continue`), to its
 * first child (`enter`), and from the last child back to its parent (`return`).
 */
export function flowcontrolGraph(flow: FlowDefinition): ProcessGraph {
  const graph: ProcessGraph = { nodes: [], edges: [] };
  const walk = (actions: readonly FlowAction[], parent: string | null) => {
    actions.forEach((action, i) => {
      const id = parent === null ? String(i) : `${parent}.${i}`;
      graph.nodes.push({ id, label: action.name, kind: action.children?.length ? 'container' : 'action' });
      if (i > 0) graph.edges.push({ from: parent === null ? String(i - 1) : `${parent}.${i - 1}`, to: id, label: 'continue' });
      if (action.children?.length) {
        graph.edges.push({ from: id, to: `${id}.0`, label: 'enter' });
        walk(action.children, id);
        graph.edges.push({ from: `${id}.${action.children.length - 1}`, to: id, label: 'return' });
      }
    });
  };
  walk(flow.actions, null);
  return graph;
}
