import { DEFAULT_DATABASE, openWayflowDatabase } from './indexeddb.ts';
import { requireBinder } from './record.ts';

const KEY = 'binder';

/** What a task is bound to: a fixed value (a user id, a session id) or a function that finds it. */
export type BinderSource = string | (() => string | Promise<string>);

function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * The random secret of this browser profile (256 bits), created on first use
 * and kept in wayflow's IndexedDB database. Tasks bound to it cannot be
 * continued from another browser even when their URL is shared. Two tabs
 * asking at once get the same secret (one transaction creates it).
 * @example
 * const task = await startTask(flow, { store, binder: await browserBinder() });
 */
export async function browserBinder(options: { name?: string } = {}): Promise<string> {
  const tx = (await openWayflowDatabase(options.name ?? DEFAULT_DATABASE)).transaction('meta', 'readwrite', { durability: 'strict' });
  let secret = await tx.store.get(KEY);
  if (secret === undefined) {
    secret = randomSecret();
    await tx.store.add(secret, KEY);
  }
  await tx.done;
  return secret;
}

/**
 * Replaces this browser profile's secret with a new one, e.g. when the user
 * signs out: every task bound to the old secret then reads as not found.
 */
export async function rotateBrowserBinder(options: { name?: string } = {}): Promise<string> {
  const secret = randomSecret();
  const tx = (await openWayflowDatabase(options.name ?? DEFAULT_DATABASE)).transaction('meta', 'readwrite', { durability: 'strict' });
  await tx.store.put(secret, KEY);
  await tx.done;
  return secret;
}

/**
 * Resolves a `BinderSource` to the value tasks are bound to. Throws `EmptyBinderError` when
 * it is empty or not a string (a binder function that returned nothing), never binds to `''`.
 */
export async function resolveBinder(source: BinderSource): Promise<string> {
  const binder: unknown = typeof source === 'function' ? await source() : source;
  requireBinder(binder, typeof source === 'function' ? 'The binder function' : 'The binder');
  return binder;
}
