import { type ReactNode, useEffect, useState } from 'react';
import type { AutomationClient, ProcessMapView } from '../../sync/index.ts';
import { Failure, type InstanceMapProps, Loading, useLoad } from './components.tsx';
import { useAutomationMessages } from './messages.ts';

/** What `AutomationMap` hands its `map`: the graph, the live counts and a title, the chosen node and how to choose one. */
export interface LiveMapProps extends InstanceMapProps {
  selected: string | null;
  onSelectNode(node: string): void;
}

/**
 * The live process map of one automation: its graph with how many instances wait at each node,
 * passed it and failed there, updated over the map's event stream, drawn by `map` (e.g.
 * `ProcessMap` of `wayflow/react/map`, kept out of this bundle). Choosing a node lists the
 * running instances there (read again whenever the counts change), each a button to
 * `onInspect` when given. Needs the `automations.view` permission, like the dashboard.
 * @example
 * <AutomationMap client={client} automation="OrderFulfilment" map={(props) => <ProcessMap {...props} />} onInspect={(id) => navigate(`/automations/${id}`)} />
 */
export function AutomationMap({
  client,
  automation,
  map: draw,
  onInspect,
}: {
  client: Pick<AutomationClient, 'watchMap' | 'mapInstances'>;
  automation: string;
  map: (props: LiveMapProps) => ReactNode;
  onInspect?(instanceId: string): void;
}) {
  const m = useAutomationMessages();
  const [map, setMap] = useState<ProcessMapView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [node, setNode] = useState<string | null>(null);
  useEffect(() => {
    setMap(null);
    setNode(null);
    // A failed poll (a 503 while the server restarts) shows until the next map arrives.
    return client.watchMap(
      automation,
      (next) => {
        setMap(next);
        setError(null);
      },
      { onError: setError },
    );
  }, [client, automation]);
  // Read again whenever the counts change; the answer names its node, so a list never shows under another.
  const listed = useLoad(async () => (node === null ? null : ([node, await client.mapInstances(automation, node)] as const)), node, map?.version, client);
  // A 403 is `dashboard-forbidden`: its words say which permission is missing.
  if (error || listed.error) return <Failure error={error ?? listed.error} />;
  if (!map) return <Loading text={m.loadingDashboard} />;
  const instances = listed.value?.[0] === node ? listed.value[1] : null;
  return (
    <section aria-label={map.verboseName}>
      {draw({ graph: map.graph, title: map.verboseName, counts: map.counts, selected: node, onSelectNode: setNode })}
      {instances && (
        <ul aria-label={`${m.instances}: ${node}`}>
          {instances.map((i) => (
            <li key={i.id}>
              {onInspect ? (
                <button type="button" onClick={() => onInspect(i.id)}>
                  {i.id}
                </button>
              ) : (
                i.id
              )}{' '}
              {i.error ?? i.status}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
