import { compile } from './compile.ts';
import type { Flow } from './definition.ts';
import {
  ABORTED,
  actionEdges,
  COMPLETED,
  type Destination,
  fallbackEdges,
  isStep,
  landingOf,
  type NodeInfo,
} from './model.ts';

/** One arrow of a flow graph: from a step to the step (or end) it can lead to. */
export interface GraphEdge {
  from: string;
  to: string;
  label: string;
}

/** A flow as steps and arrows: the django-flows flow graph, django-fsm's graph_transitions. */
export interface FlowGraph {
  steps: { id: string; title: string; kind: 'form' | 'choice' | 'auto' }[];
  edges: GraphEdge[];
}

/** Lists the steps of a flow and every arrow its definition allows (completions, targets, choices, fallbacks). */
export function flowGraph(flow: Flow): FlowGraph {
  const { model } = compile(flow);
  const land = (d: Destination) => landingOf(d.replace('.$returned', ''), model.nodes);
  const steps: FlowGraph['steps'] = [];
  const edges: GraphEdge[] = [{ from: '$start', to: land(flow.id), label: 'start' }];
  const add = (from: NodeInfo, to: Destination, label: string) => edges.push({ from: from.id, to: land(to), label });
  for (const info of model.nodes.values()) {
    const node = info.node;
    if (node.kind === 'scaffold') {
      if (node.transitions === 'choice') for (const child of node.children) add(info, child.id, `choose ${child.id}`);
    } else {
      for (const edge of actionEdges(info)) add(info, edge.to, edge.label);
    }
    for (const edge of fallbackEdges(info)) {
      for (const from of stepsWithin(info)) add(from, edge.to, edge.label);
    }
    if (isStep(node) || node.kind === 'action') {
      steps.push({ id: info.id, title: node.title, kind: node.kind === 'scaffold' ? 'choice' : node.auto ? 'auto' : 'form' });
    }
  }
  return { steps, edges: edges.filter((e, i) => edges.findIndex((o) => o.from === e.from && o.to === e.to && o.label === e.label) === i) };

  function stepsWithin(info: NodeInfo): NodeInfo[] {
    return isStep(info.node) || info.node.kind === 'action' ? [info] : (info.node.children ?? []).flatMap((c) => stepsWithin(model.nodes.get(c.id)!));
  }
}

const quote = (text: string) => text.replace(/"/g, '\\"');
/** The name of the start or an end of the flow (a function, not a table: a bundle that only imports `progressOf` drops it). */
const endOf = (id: string): string | undefined => ({ $start: 'start', [COMPLETED]: 'completed', [ABORTED]: 'aborted' })[id];

/**
 * The flow graph as Mermaid `flowchart` text.
 * @example
 * console.log(toMermaid(checkoutFlow)); // paste into any Mermaid renderer
 */
export function toMermaid(flow: Flow): string {
  const { steps, edges } = flowGraph(flow);
  const name = (id: string) => {
    const end = endOf(id);
    return end ? `${end}_` : id.replace(/-/g, '_');
  };
  const lines = ['flowchart TD', `  ${name('$start')}(("start"))`, `  ${name(COMPLETED)}(("completed"))`];
  for (const s of steps) lines.push(s.kind === 'choice' ? `  ${name(s.id)}{"${quote(s.title)}"}` : `  ${name(s.id)}["${quote(s.title)}"]`);
  for (const e of edges) lines.push(`  ${name(e.from)} -->|"${quote(e.label)}"| ${name(e.to)}`);
  return lines.join('\n');
}

/**
 * The flow graph as Graphviz DOT text.
 * @example
 * writeFileSync('checkout.dot', toDot(checkoutFlow)); // dot -Tsvg checkout.dot
 */
export function toDot(flow: Flow): string {
  const { steps, edges } = flowGraph(flow);
  const name = (id: string) => `"${quote(endOf(id) ?? id)}"`;
  const lines = [`digraph "${quote(flow.id)}" {`, '  rankdir=TB;', `  ${name('$start')} [shape=circle];`, `  ${name(COMPLETED)} [shape=doublecircle];`];
  for (const s of steps) lines.push(`  ${name(s.id)} [label="${quote(s.title)}", shape=${s.kind === 'choice' ? 'diamond' : s.kind === 'auto' ? 'ellipse' : 'box'}];`);
  for (const e of edges) lines.push(`  ${name(e.from)} -> ${name(e.to)} [label="${quote(e.label)}"];`);
  lines.push('}');
  return lines.join('\n');
}

export { progressOf } from './progress.ts';
export type { Progress, ProgressStep } from './progress.ts';
