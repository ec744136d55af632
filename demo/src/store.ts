import { indexedDbOfflineStore, indexedDbStore, remoteStore, type StateStore } from '../../src/persist/index.ts';

/**
 * Where the demo keeps its tasks, by configuration: by default on the wayflow
 * server that serves the page (`npm start`), with IndexedDB holding copies and
 * unsent writes while the server is unreachable; built with
 * `VITE_WAYFLOW_STORE=indexeddb`, in this browser's IndexedDB only.
 */
export const store: StateStore =
  import.meta.env.VITE_WAYFLOW_STORE === 'indexeddb' ? indexedDbStore() : remoteStore({ baseUrl: '', fallback: indexedDbOfflineStore() });
