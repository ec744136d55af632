import { type AutomationDefinition, nodeAfter } from './definition.ts';
import type { FlowAction, FlowDefinition } from './flowcontrol/flow.ts';
import type { AnyNode } from './nodes/nodes.ts';
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
      nodes: ws.json.nodes.map((n) => ({ id: n.name, label: n.name, kind: n.requires.length > 0 ? 'form' : n.start ? 'start' : n.end ? 'end' : 'task' })),
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
