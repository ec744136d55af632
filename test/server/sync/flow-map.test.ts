import { describe, expect, it } from 'vitest';
import { FlowDirective, type FlowDefinition, flowAction, flowcontrolGraph, suspend } from '../../../src/automations/index.ts';
import type { NodeInstanceView, ProcessMapView } from '../../../src/sync/protocol.ts';
import { asSession, asUser, body, errorOf, syncTestEnv } from './helpers.ts';

const DAY = 24 * 60 * 60 * 1000;

/**
 * Onboarding: greets, then checks the account in a container (verify, then wait a day for a
 * review), then fails when the state says so, else finishes.
 */
const onboarding: FlowDefinition = {
  name: 'Onboarding',
  actions: [
    flowAction('greet', () => FlowDirective.CONTINUE),
    flowAction('checks', () => FlowDirective.ENTER, {
      children: [flowAction('verify', () => FlowDirective.CONTINUE), flowAction('review', (ctx) => (ctx.state.reviewed ? FlowDirective.CONTINUE : suspend(ctx.now + DAY)))],
    }),
    flowAction('welcome', (ctx) => {
      if (ctx.state.broken) throw new Error('no mailer');
    }),
  ],
};

const env = syncTestEnv({ app: {} }, undefined, [onboarding]);
const fetcher = env.fetcher('app');
const viewer = () => asUser(fetcher, 'viewer');

describe('the live process map of a flowcontrol flow', () => {
  it('draws the action tree with the runs waiting at each action, the times each ran, and the runs failed there', async () => {
    const control = env.running.flowControl!;
    const waiting = await control.startRun('Onboarding');
    const alsoWaiting = await control.startRun('Onboarding');
    const failed = await control.startRun('Onboarding', { state: { reviewed: true, broken: true } });
    const notStarted = await control.createRun('Onboarding');
    expect([waiting?.status, failed?.status, notStarted?.status]).toEqual(['waiting', 'failed', 'pending']);

    const { map } = await body<{ map: ProcessMapView }>(await viewer().get('/automations/map/Onboarding'));
    expect(map.graph).toEqual(flowcontrolGraph(onboarding));
    expect(map).toMatchObject({ name: 'Onboarding', verboseName: 'Onboarding' });
    // Node ids are index paths: 0 greet, 1 checks, 1.0 verify, 1.1 review, 2 welcome.
    expect(map.counts).toEqual({
      '0': { waiting: 1, passed: 3, errors: 0 },
      '1': { waiting: 0, passed: 4, errors: 0 },
      '1.0': { waiting: 0, passed: 3, errors: 0 },
      '1.1': { waiting: 2, passed: 3, errors: 0 },
      '2': { waiting: 0, passed: 0, errors: 1 },
    });

    const { instances } = await body<{ instances: NodeInstanceView[] }>(await viewer().get('/automations/map/Onboarding/nodes/1.1'));
    expect(instances.map((run) => run.id).sort()).toEqual([waiting!.id, alsoWaiting!.id].sort());
    expect(instances.every((run) => run.status === 'active' && run.error === null)).toBe(true);
    const first = await body<{ instances: NodeInstanceView[] }>(await viewer().get('/automations/map/Onboarding/nodes/0'));
    expect(first.instances.map((run) => run.id)).toEqual([notStarted!.id]);
  });

  it('is for dashboard viewers only, and 404 for an action the flow has not', async () => {
    for (const client of [asSession(fetcher), asUser(fetcher, 'bo')]) {
      const refused = await client.get('/automations/map/Onboarding');
      expect(refused.status).toBe(403);
      expect((await errorOf(refused)).error.code).toBe('dashboard-forbidden');
    }
    const missing = await viewer().get('/automations/map/Onboarding/nodes/9.9');
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).error.code).toBe('node-not-found');
  });
});
