import { describe, expect, it } from 'vitest';
import { flowAction, automationGraph, defineAutomation, FlowDirective, flow, flowcontrolGraph, instanceNodeCounts } from '../../src/automations/index.ts';
import { harness } from './harness.ts';
import { layoutGraph } from '../../src/react/map/layout.ts';
import { orderFulfilment } from '../../flows/fulfilment/automation.ts';
import { conferenceAutomation } from './ws-scenarios.ts';

describe('automationGraph', () => {
  it('draws the order fulfilment: the form, the If branches labelled, the gotos, nothing after the end', () => {
    const graph = automationGraph(orderFulfilment);
    expect(graph.nodes.map((n) => [n.id, n.label, n.kind])).toEqual([
      ['received', 'Order received', 'execute'],
      ['approve', 'Approve the order', 'form'],
      ['decide', 'decide', 'if'],
      ['approved', 'Tell the shopper', 'send-message'],
      ['rejected', 'Tell the shopper', 'send-message'],
      ['ship', 'Hand over to shipping', 'execute'],
      ['end', 'end', 'end'],
    ]);
    expect(graph.edges).toEqual([
      { from: 'received', to: 'approve' },
      { from: 'approve', to: 'decide' },
      { from: 'decide', to: 'approved', label: 'then' },
      { from: 'decide', to: 'rejected', label: 'else' },
      { from: 'approved', to: 'ship' },
      { from: 'rejected', to: 'end' },
      { from: 'ship', to: 'end' },
    ]);
    // It lays out as a map: the branches side by side below the If.
    const rows = Object.fromEntries(layoutGraph(graph).nodes.map((n) => [n.id, n.layer]));
    expect([rows.approved, rows.rejected]).toEqual([rows.decide! + 1, rows.decide! + 1]);
  });

  it('draws Split paths, a function branch of an If as the way to the next node, and the Repeat loop', () => {
    const graph = automationGraph(
      defineAutomation('Shapes', {
        nodes: {
          start: flow.split().next('left').next('right'),
          left: flow.execute(() => undefined).next('join'),
          right: flow.execute(() => undefined),
          join: flow.join(),
          check: flow.if(() => true).thenDo(() => undefined).elseDo('start'),
          again: flow.repeat().everyHour(),
          end: flow.end(),
        },
      }),
    );
    expect(graph.edges).toEqual([
      { from: 'start', to: 'left' },
      { from: 'start', to: 'right' },
      { from: 'left', to: 'join' },
      { from: 'right', to: 'join' },
      { from: 'join', to: 'check' },
      { from: 'check', to: 'again', label: 'then' },
      { from: 'check', to: 'start', label: 'else' },
      { from: 'again', to: 'start', label: 'repeat' },
    ]);
  });

  it('draws a django-ws workflow from its JSON: human tasks as forms, transitions labelled by their conditions', () => {
    const graph = automationGraph(conferenceAutomation([]));
    expect(graph.nodes.find((n) => n.id === 'Search a location')?.kind).toBe('form');
    expect(graph.nodes.find((n) => n.id === 'Mailing')?.kind).toBe('task');
    expect(graph.edges).toContainEqual({ from: 'Wait until the starting day', to: 'Start the conference', label: 'startingDay' });
    expect(graph.edges).toHaveLength(12);
  });
});

describe('flowcontrolGraph', () => {
  it('draws the action tree: siblings in sequence, a container entering its first child and returned to from its last', () => {
    const noop = () => FlowDirective.CONTINUE;
    const graph = flowcontrolGraph({
      name: 'Loop',
      actions: [flowAction('init', noop), flowAction('loop', noop, { children: [flowAction('work', noop), flowAction('check', noop)] }), flowAction('done', noop)],
    });
    expect(graph.nodes.map((n) => `${n.id}:${n.label}:${n.kind}`)).toEqual(['0:init:action', '1:loop:container', '1.0:work:action', '1.1:check:action', '2:done:action']);
    expect(graph.edges).toEqual([
      { from: '0', to: '1', label: 'continue' },
      { from: '1', to: '1.0', label: 'enter' },
      { from: '1.0', to: '1.1', label: 'continue' },
      { from: '1.1', to: '1', label: 'return' },
      { from: '1', to: '2', label: 'continue' },
    ]);
  });
});

describe('instanceNodeCounts', () => {
  it("counts per node of one instance the paths waiting there, the visits finished there and the paths an error stopped there, from its state and history", async () => {
    const def = defineAutomation('Counted', {
      nodes: {
        start: flow.execute(),
        fork: flow.split().next('loop').next('fail'),
        loop: flow
          .if((ctx) => {
            ctx.data.n = ((ctx.data.n as number) ?? 0) + 1;
            return (ctx.data.n as number) < 3;
          })
          .thenDo('loop')
          .elseDo('meet'),
        fail: flow.execute(() => {
          throw new Error('boom');
        }),
        meet: flow.join(),
        end: flow.end(),
      },
    });
    const { runner } = harness([def]);
    const { id } = await runner.create(def);
    const counts = instanceNodeCounts(await runner.get(id), await runner.history(id));
    expect(counts).toEqual({
      start: { waiting: 0, passed: 1, errors: 0 },
      fork: { waiting: 0, passed: 1, errors: 0 },
      loop: { waiting: 0, passed: 3, errors: 0 },
      fail: { waiting: 0, passed: 0, errors: 1 },
      meet: { waiting: 1, passed: 0, errors: 0 },
    });
  });
});

