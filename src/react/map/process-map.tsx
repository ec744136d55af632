import { type KeyboardEvent, useId, useMemo } from 'react';
import { type LayoutOptions, layoutGraph, type MapGraph } from './layout.ts';

/** What happens at a node: instances waiting there now, instances that passed it, errors there. */
export interface NodeCounts {
  waiting?: number;
  passed?: number;
  errors?: number;
}

/** The words of a process map (English by default; pass your own to translate). */
export interface MapLabels {
  node: string;
  waiting: string;
  passed: string;
  errors: string;
  /** The accessible name of a node: its label and its counts. */
  describe(label: string, counts: Required<NodeCounts>): string;
}

/** The default `MapLabels`. */
export const mapLabels: MapLabels = {
  node: 'Step',
  waiting: 'Waiting now',
  passed: 'Passed',
  errors: 'Errors',
  describe: (label, c) => `${label}: ${c.waiting} waiting, ${c.passed} passed, ${c.errors} errors`,
};

/** Props of `ProcessMap`. */
export interface ProcessMapProps {
  graph: MapGraph;
  /** The title of the picture (and of its table), e.g. the automation's name. */
  title: string;
  /** Counts per node id; missing nodes count zero. */
  counts?: Readonly<Record<string, NodeCounts>>;
  /** Called when a node is chosen (click, Enter or Space on it, or its table row's button), e.g. to list its instances. */
  onSelectNode?: (id: string) => void;
  /** The node shown as selected. */
  selected?: string | null;
  labels?: MapLabels;
  layout?: LayoutOptions;
}

const zero = { waiting: 0, passed: 0, errors: 0 };

/**
 * A process drawn as a graph (SVG), each node with how many instances wait there now, how
 * many passed and how many failed there, and the same figures in a table beside it for screen
 * readers and for reading numbers. The layout is computed once per graph; new counts (e.g. from
 * the event stream) only redraw the numbers.
 * @example
 * <ProcessMap title="Order fulfilment" graph={graph} counts={{ approve: { waiting: 3, passed: 40 } }} onSelectNode={setNode} />
 */
export function ProcessMap({ graph, title, counts = {}, onSelectNode, selected = null, labels = mapLabels, layout: sizes }: ProcessMapProps) {
  const layout = useMemo(() => layoutGraph(graph, sizes), [graph, sizes]);
  const id = useId();
  const { nodeWidth: w, nodeHeight: h } = layout;
  const pad = 8;
  const choose = (node: string) => (event: KeyboardEvent) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      onSelectNode?.(node);
    }
  };
  return (
    <figure className="wayflow-map">
      <svg viewBox={`${-pad} ${-pad} ${layout.width + 2 * pad} ${layout.height + 2 * pad}`} role="img" aria-labelledby={`${id}-title`} width={layout.width + 2 * pad}>
        <title id={`${id}-title`}>{title}</title>
        <defs>
          <marker id={`${id}-arrow`} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0 0L10 5L0 10z" fill="currentColor" />
          </marker>
        </defs>
        {layout.edges.map((edge, i) => {
          const mid = edge.points[Math.floor((edge.points.length - 1) / 2)]!;
          const end = edge.points[Math.ceil((edge.points.length - 1) / 2)]!;
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: two edges may join the same nodes; their place in the list tells them apart
            <g key={`${edge.from}>${edge.to}:${i}`} className={edge.back ? 'wayflow-map-edge wayflow-map-back' : 'wayflow-map-edge'}>
              <polyline points={edge.points.map((p) => p.join(',')).join(' ')} fill="none" stroke="currentColor" markerEnd={`url(#${id}-arrow)`} />
              {edge.label ? (
                <text x={(mid[0] + end[0]) / 2 + 4} y={(mid[1] + end[1]) / 2} fontSize="11">
                  {edge.label}
                </text>
              ) : null}
            </g>
          );
        })}
        {layout.nodes.map((node) => {
          const c = { ...zero, ...counts[node.id] };
          const className = `wayflow-map-node${node.kind ? ` wayflow-map-${node.kind}` : ''}${selected === node.id ? ' wayflow-map-selected' : ''}`;
          const box = (
            <>
              <rect width={w} height={h} rx="6" fill="#fff" stroke="currentColor" strokeWidth={selected === node.id ? 3 : 1} />
              <text x={w / 2} y={20} textAnchor="middle" fontSize="13">
                {node.label}
              </text>
              <text x={w / 2} y={40} textAnchor="middle" fontSize="11">
                {`${c.waiting} · ${c.passed}${c.errors ? ` · ${c.errors}!` : ''}`}
              </text>
            </>
          );
          return onSelectNode ? (
            // biome-ignore lint/a11y/useSemanticElements: an SVG group cannot be an HTML <button>; it takes the role, the focus and the keys
            <g
              key={node.id}
              className={className}
              transform={`translate(${node.x} ${node.y})`}
              role="button"
              tabIndex={0}
              aria-label={labels.describe(node.label, c)}
              aria-pressed={selected === node.id}
              onClick={() => onSelectNode(node.id)}
              onKeyDown={choose(node.id)}
            >
              {box}
            </g>
          ) : (
            // biome-ignore lint/a11y/noInteractiveElementToNoninteractiveRole: an SVG <g> is not interactive; the role names the node as one picture
            <g key={node.id} className={className} transform={`translate(${node.x} ${node.y})`} role="img" aria-label={labels.describe(node.label, c)}>
              {box}
            </g>
          );
        })}
      </svg>
      <table className="wayflow-map-table">
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">{labels.node}</th>
            <th scope="col">{labels.waiting}</th>
            <th scope="col">{labels.passed}</th>
            <th scope="col">{labels.errors}</th>
          </tr>
        </thead>
        <tbody>
          {graph.nodes.map((node) => {
            const c = { ...zero, ...counts[node.id] };
            return (
              <tr key={node.id} aria-selected={selected === node.id || undefined}>
                <th scope="row">
                  {onSelectNode ? (
                    <button type="button" onClick={() => onSelectNode(node.id)}>
                      {node.label}
                    </button>
                  ) : (
                    node.label
                  )}
                </th>
                <td>{c.waiting}</td>
                <td>{c.passed}</td>
                <td>{c.errors}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </figure>
  );
}
