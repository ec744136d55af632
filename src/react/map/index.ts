export { type LayoutOptions, layoutGraph, type MapEdge, type MapGraph, MapGraphError, type MapLayout, type MapNode, type PlacedEdge, type PlacedNode } from './layout.ts';
export { type MapLabels, mapLabels, type NodeCounts, ProcessMap, type ProcessMapProps } from './process-map.tsx';
