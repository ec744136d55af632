import { useCallback, useContext, useSyncExternalStore } from 'react';
import { type RemoteStatus, type RemoteStore, type SaveState, type StateStore, saveStateOf } from '../../persist/index.ts';
import { ConfigContext } from '../context.ts';
import { useMessages } from '../messages.ts';

const never = () => () => undefined;

/**
 * Whether the user's changes are saved, from the remote store given (or the provider's):
 * its `RemoteStatus` (`waiting`, `conflicts`, `connection`…) and the `state` to show
 * (saved / saving / offline / conflict / error); null when the store reports no status
 * (e.g. `indexedDbStore`, where every write is local).
 * @example
 * const save = useSaveState();
 * if (save?.state === 'offline') return <p>{save.waiting} changes wait for the connection</p>;
 */
export function useSaveState(given?: StateStore): (RemoteStatus & { state: SaveState }) | null {
  const provided = useContext(ConfigContext)?.store;
  const store = given ?? provided;
  const remote = store && 'status' in store && 'subscribe' in store ? (store as RemoteStore) : null;
  const subscribe = useCallback((notify: () => void) => (remote ? remote.subscribe(notify) : never()), [remote]);
  const read = () => remote?.status() ?? null;
  const status = useSyncExternalStore(subscribe, read, read);
  return status && { ...status, state: saveStateOf(status) };
}

/**
 * Tells the user, politely (`role="status"`), whether their changes are saved: the
 * `saved`, `saving`, `offline(waiting)`, `saveConflict` or `saveFailed` message.
 * Renders nothing for a store without a status. The class names the state
 * (`wayflow-save wayflow-save-offline`…) for styling.
 * @example
 * <WayflowProvider store={remoteStore({ baseUrl: '/api' })}><SaveStatus />…</WayflowProvider>
 */
export function SaveStatus({ store }: { store?: StateStore }) {
  const save = useSaveState(store);
  const m = useMessages();
  if (!save) return null;
  const text = { saved: m.saved, saving: m.saving, offline: m.offline(save.waiting), conflict: m.saveConflict, error: m.saveFailed }[save.state];
  return (
    <p role="status" aria-live="polite" className={`wayflow-save wayflow-save-${save.state}`}>
      {text}
    </p>
  );
}
