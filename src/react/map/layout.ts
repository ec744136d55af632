import { WayflowError } from '../../core/index.ts';

/** A node of a process map: a step of an automation, a django-ws task, a flowcontrol action. */
export interface MapNode {
  id: string;
  label: string;
  /** What kind of node it is (`form`, `split`, `join`, `if`, `end`…): a class name for styling. */
  kind?: string;
}

/** A way from one node to another; `label` names a branch (`yes`, `no`, a choice). */
export interface MapEdge {
  from: string;
  to: string;
  label?: string;
}

/** What a process map draws: nodes and the edges between them, the start first. */
export interface MapGraph {
  nodes: readonly MapNode[];
  edges: readonly MapEdge[];
}

/** A node with its place: `x`, `y` is its top-left corner; `layer` its row, `order` its place in the row. */
export interface PlacedNode extends MapNode {
  x: number;
  y: number;
  layer: number;
  order: number;
}

/** An edge with the points of its line; `back` when it goes back up (a loop). */
export interface PlacedEdge extends MapEdge {
  points: [number, number][];
  back: boolean;
}

/** A laid-out graph: every node placed in rows from top to bottom, every edge routed. */
export interface MapLayout {
  width: number;
  height: number;
  nodeWidth: number;
  nodeHeight: number;
  nodes: PlacedNode[];
  edges: PlacedEdge[];
}

/** Sizes of the layout, in SVG user units. */
export interface LayoutOptions {
  nodeWidth?: number;
  nodeHeight?: number;
  gapX?: number;
  gapY?: number;
}

/** A graph given to `layoutGraph` names an unknown node in an edge, or a node twice. */
export class MapGraphError extends WayflowError {
  override readonly name: string = 'MapGraphError';
  constructor(problem: string) {
    super('map-graph', `The process map's graph is not drawable: ${problem}. Give every node once, and edges between given nodes only.`);
  }
}

/**
 * Lays a graph out in rows, as processes read: each node below every node leading to it
 * (loops are drawn as edges going back up), the nodes of a row ordered to keep edges short and
 * uncrossed (barycenter sweeps), rows centred. Pure and deterministic: the same graph gives the
 * same picture, so a map re-renders only for changed counts.
 * @example
 * const layout = layoutGraph({ nodes: [{ id: 'a', label: 'Start' }, { id: 'b', label: 'End' }], edges: [{ from: 'a', to: 'b' }] });
 */
export function layoutGraph(graph: MapGraph, options: LayoutOptions = {}): MapLayout {
  const { nodeWidth = 168, nodeHeight = 56, gapX = 32, gapY = 48 } = options;
  const index = new Map<string, number>();
  graph.nodes.forEach((node, i) => {
    if (index.has(node.id)) throw new MapGraphError(`node "${node.id}" is given twice`);
    index.set(node.id, i);
  });
  const n = graph.nodes.length;
  const out: number[][] = Array.from({ length: n }, () => []);
  for (const edge of graph.edges) {
    const from = index.get(edge.from);
    const to = index.get(edge.to);
    if (from === undefined || to === undefined) throw new MapGraphError(`the edge ${edge.from} → ${edge.to} names an unknown node "${from === undefined ? edge.from : edge.to}"`);
    out[from]!.push(to);
  }
  // Back edges: those closing a cycle in a depth-first walk from the start (then from any node not reached).
  const state = new Uint8Array(n);
  const back = new Set<string>();
  for (let root = 0; root < n; root++) {
    if (state[root]) continue;
    const stack: [number, number][] = [[root, 0]];
    state[root] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [v, i] = top;
      if (i < out[v]!.length) {
        top[1] += 1;
        const w = out[v]![i]!;
        if (state[w] === 1) back.add(`${v}>${w}`);
        else if (state[w] === 0) {
          state[w] = 1;
          stack.push([w, 0]);
        }
      } else {
        state[v] = 2;
        stack.pop();
      }
    }
  }
  const forward = (v: number) => out[v]!.filter((w) => !back.has(`${v}>${w}`) && w !== v);
  // Rows: the longest forward path to each node (Kahn's order over the forward edges).
  const indegree = new Array<number>(n).fill(0);
  for (let v = 0; v < n; v++) for (const w of forward(v)) indegree[w]! += 1;
  const layer = new Array<number>(n).fill(0);
  const queue = [...Array(n).keys()].filter((v) => indegree[v] === 0);
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head]!;
    for (const w of forward(v)) {
      layer[w] = Math.max(layer[w]!, layer[v]! + 1);
      indegree[w]! -= 1;
      if (indegree[w] === 0) queue.push(w);
    }
  }
  const rows: number[][] = Array.from({ length: Math.max(-1, ...layer) + 1 }, () => []);
  for (let v = 0; v < n; v++) rows[layer[v]!]!.push(v);
  const preds: number[][] = Array.from({ length: n }, () => []);
  for (let v = 0; v < n; v++) for (const w of forward(v)) preds[w]!.push(v);
  const position = new Array<number>(n).fill(0);
  const renumber = (row: number[]) => {
    for (const [i, v] of row.entries()) position[v] = i;
  };
  for (const row of rows) renumber(row);
  const barycenter = (neighbours: number[], v: number) => (neighbours.length ? neighbours.reduce((sum, u) => sum + position[u]!, 0) / neighbours.length : position[v]!);
  for (let sweep = 0; sweep < 4; sweep++) {
    const down = sweep % 2 === 0;
    const order = down ? rows.keys() : [...rows.keys()].reverse();
    for (const r of order) {
      const row = rows[r]!;
      const keys = new Map(row.map((v) => [v, barycenter(down ? preds[v]! : forward(v), v)]));
      row.sort((a, b) => keys.get(a)! - keys.get(b)! || position[a]! - position[b]!);
      renumber(row);
    }
  }
  const widest = Math.max(1, ...rows.map((row) => row.length));
  const width = widest * (nodeWidth + gapX) - gapX;
  const placed: PlacedNode[] = graph.nodes.map((node, v) => {
    const row = rows[layer[v]!]!;
    const rowWidth = row.length * (nodeWidth + gapX) - gapX;
    return { ...node, layer: layer[v]!, order: position[v]!, x: (width - rowWidth) / 2 + position[v]! * (nodeWidth + gapX), y: layer[v]! * (nodeHeight + gapY) };
  });
  const edges: PlacedEdge[] = graph.edges.map((edge) => {
    const a = placed[index.get(edge.from)!]!;
    const b = placed[index.get(edge.to)!]!;
    const isBack = back.has(`${index.get(edge.from)}>${index.get(edge.to)}`) || a === b;
    if (!isBack) return { ...edge, back: false, points: [[a.x + nodeWidth / 2, a.y + nodeHeight], [b.x + nodeWidth / 2, b.y]] };
    // Loops leave from the right side and come back in at the right side, outside the nodes.
    const side = Math.max(a.x, b.x) + nodeWidth + gapX / 2;
    return { ...edge, back: true, points: [[a.x + nodeWidth, a.y + nodeHeight / 2], [side, a.y + nodeHeight / 2], [side, b.y + nodeHeight / 2], [b.x + nodeWidth, b.y + nodeHeight / 2]] };
  });
  const height = rows.length === 0 ? 0 : rows.length * (nodeHeight + gapY) - gapY;
  return { width: width + gapX, height, nodeWidth, nodeHeight, nodes: placed, edges };
}
