import { useEffect, useState } from 'react';
import type { AutomationClient } from '../../sync/client.ts';
import type { NodeInstanceView, ProcessMapView } from '../../sync/protocol.ts';
import { ProcessMap } from '../map/process-map.tsx';
import { useAutomationMessages, useSyncErrorMessage } from './messages.ts';

/**
 * The live process map of one automation (`ProcessMap` of `wayflow/react/map`): its graph with
 * how many instances wait at each node, passed it and failed there, updated over the map's
 * event stream. Choosing a node lists the running instances there (read again whenever the
 * counts change), each a button to `onInspect` when given. Needs the `automations.view`
 * permission, like the dashboard.
 * @example
 * <AutomationMap client={client} automation="OrderFulfilment" onInspect={(id) => navigate(`/automations/${id}`)} />
 */
export function AutomationMap({
  client,
  automation,
  onInspect,
}: {
  client: Pick<AutomationClient, 'watchMap' | 'mapInstances'>;
  automation: string;
  onInspect?(instanceId: string): void;
}) {
  const m = useAutomationMessages();
  const [map, setMap] = useState<ProcessMapView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [node, setNode] = useState<string | null>(null);
  const [listed, setListed] = useState<[string | null, NodeInstanceView[]]>([null, []]);
  useEffect(() => {
    setMap(null);
    setNode(null);
    return client.watchMap(automation, setMap, { onError: setError });
  }, [client, automation]);
  const version = map?.version;
  useEffect(() => {
    let current = true;
    if (node !== null && version)
      client.mapInstances(automation, node).then((instances) => current && setListed([node, instances]), setError);
    return () => {
      current = false;
    };
  }, [client, automation, node, version]);
  const failure = useSyncErrorMessage(error);
  // A 403 is `dashboard-forbidden`: its words say which permission is missing.
  if (!map) return <p role={failure ? 'alert' : 'status'}>{failure ?? m.loadingDashboard}</p>;
  return (
    <section aria-label={map.verboseName}>
      <ProcessMap graph={map.graph} title={map.verboseName} counts={map.counts} selected={node} onSelectNode={setNode} />
      {node && listed[0] === node && (
        <ul aria-label={`${m.instances}: ${node}`}>
          {listed[1].map((i) => (
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
