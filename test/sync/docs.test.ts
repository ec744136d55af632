import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { exampleRunner } from '../helpers/doc-examples.ts';
import { statusOf } from './fakes.ts';

const doc = readFileSync(new URL('../../docs/sync-client.md', import.meta.url), 'utf8');
const source = (file: string) => readFileSync(new URL(`./examples/${file}`, import.meta.url), 'utf8').trim();

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('docs/sync-client.md', () => {
  for (const file of ['follow-order.ts', 'inbox.tsx']) {
    it(`shows ${file} verbatim`, () => {
      expect(doc.includes(source(file)), `paste test/sync/examples/${file} into docs/sync-client.md`).toBe(true);
    });
  }

  it('follow-order.ts runs against a server and prints what the docs say', async () => {
    const requests: string[] = [];
    vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
      requests.push(`${init.method ?? 'GET'} ${url}`);
      // Ships after the step's first check and the first poll of the watch.
      const shipped = requests.length > 3;
      const instance = statusOf(shipped ? 'v2' : 'v1', { id: 'inst-1', data: shipped ? { shipped: true, decision: 'approve' } : { shipped: false } });
      return new Response(JSON.stringify({ instance }), { status: url.includes('/start/') ? 201 : 200 });
    });
    const printed: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      printed.push(args.join(' '));
    });
    await import('./examples/follow-order.ts');
    expect(printed).toEqual(['suspended wait', 'shipped approve']);
    expect(requests[0]).toBe('POST /automations/start/OrderFulfilment');
    expect(requests.slice(1).every((r) => r === 'GET /automations/instances/inst-1')).toBe(true);
  });

  it('the live process map example runs against a server and logs what it says', async () => {
    const block = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).find((code) => code.includes('watchMap('));
    expect(block).toBeDefined();
    const examples = await exampleRunner('sync-client-map');
    try {
      const checks = await examples.run(block!, 'live-map');
      expect(checks.map(([logged]) => logged)).toEqual(checks.map(([, expected]) => expected));
      expect(checks).toHaveLength(block!.split('// =>').length - 1);
    } finally {
      await examples.close();
    }
  }, 60_000);
});
