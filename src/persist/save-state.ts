import type { RemoteStatus } from './remote.ts';

/**
 * What to tell the user about their changes, from a remote store's status:
 * `conflict` (offline writes the server refused, or a write refused because the task changed
 * elsewhere), `error` (the last write failed), `offline` (the server is unreachable; changes
 * are kept on the device and `waiting` says how many), `saving`, or `saved`.
 */
export type SaveState = 'saved' | 'saving' | 'offline' | 'conflict' | 'error';

/**
 * The `SaveState` of a remote store's status, the most pressing first (conflict, error, offline, saving).
 * @example
 * store.subscribe((status) => console.log(saveStateOf(status), status.waiting));
 */
export function saveStateOf(status: RemoteStatus): SaveState {
  if (status.conflicts > 0 || status.error?.code === 'version-conflict') return 'conflict';
  if (status.error) return 'error';
  if (status.connection === 'offline') return 'offline';
  return status.saving || status.pending ? 'saving' : 'saved';
}
