import { hc } from 'hono/client';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { SyncRoutesType } from '../../../src/server/sync/index.ts';
import { automationClient } from '../../../src/sync/client.ts';
import type { SyncResponses } from '../../../src/sync/protocol.ts';
import type { Answer, Reads } from '../../helpers/route-types.ts';

type Routes = ReturnType<typeof hc<SyncRoutesType>>;

describe('the automation client and the sync routes', () => {
  it('reads the bodies the routes answer with (a change on either side fails the type check)', () => {
    expectTypeOf<Reads<SyncResponses['forms'], Answer<Routes['forms']['$get']>>>().toEqualTypeOf<true>();
    expectTypeOf<Reads<SyncResponses['form'], Answer<Routes['forms'][':instanceId'][':taskId']['$get']>>>().toEqualTypeOf<true>();
    expectTypeOf<Reads<SyncResponses['submitForm'], Answer<Routes['forms'][':instanceId'][':taskId']['$post']>>>().toEqualTypeOf<true>();
    expectTypeOf<Reads<SyncResponses['start'], Answer<Routes['start'][':automation']['$post'], 201>>>().toEqualTypeOf<true>();
    expectTypeOf<Reads<SyncResponses['start'], Answer<Routes['start'][':automation']['$post'], 200>>>().toEqualTypeOf<true>();
    expectTypeOf<Reads<SyncResponses['status'], Answer<Routes['instances'][':id']['$get']>>>().toEqualTypeOf<true>();
    expectTypeOf<Reads<SyncResponses['send'], Answer<Routes['instances'][':id']['messages'][':message']['$post']>>>().toEqualTypeOf<true>();
    expectTypeOf<Reads<SyncResponses['dashboard'], Answer<Routes['dashboard']['$get']>>>().toEqualTypeOf<true>();
    expectTypeOf<Reads<SyncResponses['inspect'], Answer<Routes['dashboard']['instances'][':id']['$get']>>>().toEqualTypeOf<true>();
    expectTypeOf<Reads<SyncResponses['map'], Answer<Routes['map'][':automation']['$get']>>>().toEqualTypeOf<true>();
    expectTypeOf<Reads<SyncResponses['mapInstances'], Answer<Routes['map'][':automation']['nodes'][':node']['$get']>>>().toEqualTypeOf<true>();
  });

  it('sends the JSON bodies the routes validate', () => {
    type Json<Endpoint> = Endpoint extends (args: infer A, ...rest: never[]) => unknown ? (A extends { json: infer J } ? J : never) : never;
    expectTypeOf<Json<Routes['forms'][':instanceId'][':taskId']['$post']>>().toEqualTypeOf<{ input: unknown }>();
    expectTypeOf<Json<Routes['start'][':automation']['$post']>>().toEqualTypeOf<{ input: unknown }>();
    expectTypeOf<Json<Routes['instances'][':id']['messages'][':message']['$post']>>().toEqualTypeOf<{ payload?: Record<string, unknown> | undefined }>();
  });

  it('requests the paths the routes are mounted at', async () => {
    const requested: string[] = [];
    const answer = { forms: [], form: {}, instance: {}, dashboard: {}, history: [], result: null, map: {}, instances: [] };
    const fetch = async (input: RequestInfo | URL) => {
      requested.push(String(input));
      return Response.json(answer);
    };
    const client = automationClient({ baseUrl: 'http://wayflow.test', fetch, EventSource: null });
    await client.forms();
    await client.form('order-1', 7);
    await client.submitForm('order-1', 7, {});
    await client.start('SyncOrder', {}, 'key-1');
    await client.status('order-1');
    await client.send('order-1', 'note', {});
    await client.dashboard();
    await client.inspect('order-1');
    await client.map('Sync Order');
    await client.mapInstances('Sync Order', 'approve');
    const routes = hc<SyncRoutesType>('http://wayflow.test/automations');
    const form = { param: { instanceId: 'order-1', taskId: '7' } };
    expect(requested).toEqual(
      [
        routes.forms.$url(),
        routes.forms[':instanceId'][':taskId'].$url(form),
        routes.forms[':instanceId'][':taskId'].$url(form),
        routes.start[':automation'].$url({ param: { automation: 'SyncOrder' } }),
        routes.instances[':id'].$url({ param: { id: 'order-1' } }),
        routes.instances[':id'].messages[':message'].$url({ param: { id: 'order-1', message: 'note' } }),
        routes.dashboard.$url(),
        routes.dashboard.instances[':id'].$url({ param: { id: 'order-1' } }),
        routes.map[':automation'].$url({ param: { automation: 'Sync Order' } }),
        routes.map[':automation'].nodes[':node'].$url({ param: { automation: 'Sync Order', node: 'approve' } }),
      ].map(String),
    );
  });
});
