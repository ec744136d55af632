import type { ReactNode } from 'react';
import { indexedDbOfflineStore, remoteStore } from 'wayflow/persist';
import { WayflowProvider } from 'wayflow/react';
import { SaveStatus, useSaveState } from 'wayflow/react/save';

export const store = remoteStore({ baseUrl: '/api', fallback: indexedDbOfflineStore() });

/** A button that sends the waiting changes now, shown only while some wait. */
export function SendNow() {
  const save = useSaveState();
  if (!save || save.waiting === 0) return null;
  return (
    <button type="button" onClick={() => void store.sync()}>
      Send {save.waiting} now
    </button>
  );
}

/** The layout: the save state beside the page, read from the provider's store. */
export const Layout = ({ page }: { page: ReactNode }) => (
  <WayflowProvider store={store}>
    <header>
      <SaveStatus />
      <SendNow />
    </header>
    {page}
  </WayflowProvider>
);
