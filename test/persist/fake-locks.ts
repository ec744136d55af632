/**
 * A Web Locks `LockManager` for one process (Node has none): exclusive locks
 * with `ifAvailable` and `signal`, enough for the tab-claim tests.
 */
export function fakeLocks(): LockManager {
  const held = new Set<string>();
  const waiting = new Map<string, Array<() => void>>();
  const grant = (name: string) => {
    const next = waiting.get(name)?.shift();
    if (next) next();
  };
  const request = (name: string, ...rest: unknown[]): Promise<unknown> => {
    const callback = rest.at(-1) as (lock: Lock | null) => unknown;
    const options = (rest.length > 1 ? rest[0] : {}) as LockOptions;
    const run = async () => {
      held.add(name);
      try {
        return await callback({ name, mode: 'exclusive' } as Lock);
      } finally {
        held.delete(name);
        grant(name);
      }
    };
    if (!held.has(name)) return run();
    if (options.ifAvailable) return Promise.resolve(callback(null));
    return new Promise((resolve, reject) => {
      const queue = waiting.get(name) ?? [];
      const start = () => {
        options.signal?.removeEventListener('abort', abort);
        run().then(resolve, reject);
      };
      const abort = () => {
        queue.splice(queue.indexOf(start), 1);
        reject(options.signal?.reason ?? new DOMException('aborted', 'AbortError'));
      };
      options.signal?.addEventListener('abort', abort, { once: true });
      queue.push(start);
      waiting.set(name, queue);
    });
  };
  return { request, query: async () => ({ held: [], pending: [] }) } as unknown as LockManager;
}
