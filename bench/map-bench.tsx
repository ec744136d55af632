// The process map's re-render, bundled by bench/map.mjs (React in its production build, jsdom as the DOM).
import { createElement, Fragment } from 'react';
import { flushSync } from 'react-dom';
import { createRoot } from 'react-dom/client';
import { automationGraph } from '../src/automations/graph.ts';
import { defineAutomation, flow } from '../src/automations/index.ts';
import { layoutGraph } from '../src/react/map/layout.ts';
import { type NodeCounts, ProcessMap } from '../src/react/map/process-map.tsx';

/** A 200-node automation: runs of Execute nodes, an If every 20 nodes branching over the next one, a Split/Join pair, an End. */
export function bigAutomation(size = 200) {
  const nodes: Record<string, unknown> = {};
  for (let i = 0; i < size - 5; i++) {
    const name = `n${i}`;
    nodes[name] = i % 20 === 10 ? flow.if(() => true).thenDo(`n${i + 1}`).elseDo(`n${i + 2}`) : flow.execute(() => undefined).describe(`Step ${i}`);
  }
  nodes.fork = flow.split().next('left').next('right');
  nodes.left = flow.execute(() => undefined).next('meet');
  nodes.right = flow.execute(() => undefined);
  nodes.meet = flow.join();
  nodes.end = flow.end();
  return defineAutomation('Big', { nodes: nodes as never });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)]!;

/** Counts that change on every sample: each node's figures moved by the sample number. */
const countsAt = (ids: string[], sample: number): Record<string, NodeCounts> =>
  Object.fromEntries(ids.map((id, i) => [id, { waiting: (i + sample) % 7, passed: i * 3 + sample, errors: (i * sample) % 5 === 0 ? 1 : 0 }]));

/**
 * The baseline of the same run: the same picture drawn by hand (rectangles, labels and counts
 * at positions computed once, no table, no accessibility names), the least a map can render.
 */
function HandDrawn({ placed, counts }: { placed: { id: string; x: number; y: number; label: string }[]; counts: Record<string, NodeCounts> }) {
  return createElement(
    'svg',
    null,
    placed.map((n) =>
      createElement(
        'g',
        { key: n.id, transform: `translate(${n.x} ${n.y})` },
        createElement('rect', { width: 160, height: 52 }),
        createElement('text', null, n.label),
        createElement('text', { y: 40 }, `${counts[n.id]?.waiting ?? 0} · ${counts[n.id]?.passed ?? 0}`),
      ),
    ),
  );
}

/** Renders a map, then re-renders it with new counts `samples` times; ms per re-render (each flushed to the DOM). */
export function measure(samples: number) {
  const graph = automationGraph(bigAutomation());
  const ids = graph.nodes.map((n) => n.id);
  const started = performance.now();
  const layout = layoutGraph(graph);
  const layoutMs = performance.now() - started;
  const placed = layout.nodes.map((n) => ({ id: n.id, x: n.x, y: n.y, label: n.label }));
  const run = (render: (counts: Record<string, NodeCounts>) => ReturnType<typeof createElement>) => {
    const host = document.createElement('div');
    document.body.append(host);
    const root = createRoot(host);
    const first = performance.now();
    flushSync(() => root.render(render(countsAt(ids, 0))));
    const firstMs = performance.now() - first;
    const times: number[] = [];
    for (let s = 1; s <= samples; s++) {
      const counts = countsAt(ids, s);
      const t = performance.now();
      flushSync(() => root.render(render(counts)));
      times.push(performance.now() - t);
    }
    root.unmount();
    host.remove();
    return { first: firstMs, median: median(times), p95: p95(times) };
  };
  // Warm both up once, then measure.
  run((counts) => createElement(ProcessMap, { graph, title: 'Big', counts }));
  run((counts) => createElement(HandDrawn, { placed, counts }));
  const map = run((counts) => createElement(ProcessMap, { graph, title: 'Big', counts, onSelectNode: () => undefined }));
  const baseline = run((counts) => createElement(Fragment, null, createElement(HandDrawn, { placed, counts })));
  return { nodes: graph.nodes.length, edges: graph.edges.length, layoutMs, map, baseline };
}
