import type { TaskRecord } from '../../src/core/store.ts';

/** The tasks API of a wayflow server, in memory, behind a network that can be cut or made to fail. */
export function fakeTasksServer() {
  const tasks = new Map<string, TaskRecord>();
  const network = { down: false, failWrites: false };
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const fetch = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    if (network.down) throw new TypeError('Failed to fetch');
    const id = new URL(String(input), 'http://localhost').pathname.split('/tasks')[1]?.slice(1) || undefined;
    const headers = new Headers(init.headers);
    const ifMatch = headers.get('if-match');
    const current = id ? tasks.get(id) : undefined;
    if (init.method === 'GET' && !id) return json(200, { tasks: [] });
    if (init.method === 'GET') return current ? json(200, { task: current }) : json(404, { error: { code: 'task-not-found' } });
    if (init.method === 'PUT') {
      if (network.failWrites) return json(500, { error: { code: 'internal', message: 'the disk is full' } });
      if (Number(ifMatch?.replaceAll('"', '')) !== (current?.version ?? 0)) return json(409, { error: { code: 'version-conflict', current: current?.version ?? null } });
      tasks.set(id!, JSON.parse(String(init.body)));
      return json(current ? 200 : 201, { ok: true });
    }
    if (init.method === 'DELETE') {
      tasks.delete(id!);
      return new Response(null, { status: 204 });
    }
    return json(404, { error: { code: 'not-found' } });
  }) as typeof globalThis.fetch;
  return { tasks, network, fetch };
}
