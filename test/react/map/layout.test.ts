import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { layoutGraph, type MapGraph, MapGraphError } from '../../../src/react/map/index.ts';

const chain = (ids: string[]): MapGraph => ({ nodes: ids.map((id) => ({ id, label: id.toUpperCase() })), edges: ids.slice(1).map((to, i) => ({ from: ids[i]!, to })) });

/** Random graphs: up to 40 nodes, edges between any two (loops and cycles included), the start first. */
const graphs = fc
  .integer({ min: 1, max: 40 })
  .chain((n) => fc.tuple(fc.constant(n), fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 80 })))
  .map(([n, pairs]): MapGraph => ({ nodes: Array.from({ length: n }, (_, i) => ({ id: `n${i}`, label: `Node ${i}` })), edges: pairs.map(([a, b]) => ({ from: `n${a}`, to: `n${b}` })) }));

describe('layoutGraph', () => {
  it('puts a chain in one column, top to bottom', () => {
    const layout = layoutGraph(chain(['a', 'b', 'c']), { nodeWidth: 100, nodeHeight: 40, gapY: 20 });
    expect(layout.nodes.map((n) => [n.id, n.layer, n.y])).toEqual([
      ['a', 0, 0],
      ['b', 1, 60],
      ['c', 2, 120],
    ]);
    expect(new Set(layout.nodes.map((n) => n.x)).size).toBe(1);
    expect(layout.edges.every((e) => !e.back)).toBe(true);
  });

  it('draws the branches of a split side by side and joins them below both', () => {
    const layout = layoutGraph({
      nodes: ['split', 'left', 'right', 'join', 'end'].map((id) => ({ id, label: id })),
      edges: [
        { from: 'split', to: 'left' },
        { from: 'split', to: 'right' },
        { from: 'left', to: 'join' },
        { from: 'right', to: 'join' },
        { from: 'join', to: 'end' },
      ],
    });
    const at = Object.fromEntries(layout.nodes.map((n) => [n.id, n]));
    expect([at.left!.layer, at.right!.layer]).toEqual([1, 1]);
    expect(at.left!.x).not.toBe(at.right!.x);
    expect(at.join!.layer).toBe(2);
    // Centred rows: the split sits midway between its branches.
    expect(at.split!.x).toBeCloseTo((at.left!.x + at.right!.x) / 2);
  });

  it('draws a loop as an edge going back up, outside the nodes', () => {
    const layout = layoutGraph({ nodes: chain(['a', 'b', 'c']).nodes, edges: [...chain(['a', 'b', 'c']).edges, { from: 'c', to: 'a', label: 'again' }] });
    const loop = layout.edges.find((e) => e.label === 'again')!;
    expect(loop.back).toBe(true);
    expect(Math.min(...loop.points.map(([x]) => x))).toBeGreaterThanOrEqual(layout.nodes[0]!.x + layout.nodeWidth);
    expect(layout.nodes.map((n) => n.layer)).toEqual([0, 1, 2]);
  });

  it('refuses a graph naming an unknown node or a node twice, saying which', () => {
    expect(() => layoutGraph({ nodes: [{ id: 'a', label: 'A' }], edges: [{ from: 'a', to: 'b' }] })).toThrow(/a → b names an unknown node "b"/);
    expect(() => layoutGraph({ nodes: [{ id: 'a', label: 'A' }, { id: 'a', label: 'A' }], edges: [] })).toThrow(MapGraphError);
  });

  it('places every node once, without overlaps, every forward edge going down, whatever the graph', () => {
    fc.assert(
      fc.property(graphs, (graph) => {
        const layout = layoutGraph(graph);
        expect(layout.nodes.map((n) => n.id)).toEqual(graph.nodes.map((n) => n.id));
        const cells = new Set(layout.nodes.map((n) => `${n.x},${n.y}`));
        expect(cells.size).toBe(layout.nodes.length);
        for (const n of layout.nodes) {
          expect(n.x).toBeGreaterThanOrEqual(0);
          expect(n.x + layout.nodeWidth).toBeLessThanOrEqual(layout.width);
          expect(n.y + layout.nodeHeight).toBeLessThanOrEqual(layout.height);
        }
        const layer = new Map(layout.nodes.map((n) => [n.id, n.layer]));
        for (const e of layout.edges) if (!e.back) expect(layer.get(e.to)!).toBeGreaterThan(layer.get(e.from)!);
        // Deterministic: the same graph, the same picture.
        expect(layoutGraph(graph)).toEqual(layout);
      }),
      { numRuns: 200 },
    );
  });
});
