import { useState } from 'react';
import { type MapGraph, ProcessMap } from 'wayflow/react/map';

/** The order fulfilment automation as a graph: a form, then one of two branches, then the end. */
export const fulfilment: MapGraph = {
  nodes: [
    { id: 'placed', label: 'Order placed' },
    { id: 'approve', label: 'Approve the order', kind: 'form' },
    { id: 'ship', label: 'Ship it' },
    { id: 'refund', label: 'Refund' },
    { id: 'end', label: 'Done', kind: 'end' },
  ],
  edges: [
    { from: 'placed', to: 'approve' },
    { from: 'approve', to: 'ship', label: 'approved' },
    { from: 'approve', to: 'refund', label: 'rejected' },
    { from: 'ship', to: 'end' },
    { from: 'refund', to: 'end' },
  ],
};

/** A back-office page: the map with the counts the server reported, and the instances of the chosen node. */
export function FulfilmentMap({ counts, instancesAt }: { counts: Record<string, { waiting?: number; passed?: number; errors?: number }>; instancesAt: (node: string) => string[] }) {
  const [node, setNode] = useState<string | null>(null);
  return (
    <>
      <ProcessMap title="Order fulfilment" graph={fulfilment} counts={counts} selected={node} onSelectNode={setNode} />
      {node ? (
        <section aria-label={`Instances at ${node}`}>
          <ul>
            {instancesAt(node).map((id) => (
              <li key={id}>{id}</li>
            ))}
          </ul>
        </section>
      ) : null}
    </>
  );
}
