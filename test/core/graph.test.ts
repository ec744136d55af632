import { describe, expect, it } from 'vitest';
import { createCheckoutFlow, demoServices } from '../../flows/checkout/index.ts';
import { flowGraph, toDot, toMermaid } from '../../src/core/graph.ts';
import { action, defineFlow, orGoTo, requiredState, scaffold } from '../../src/core/index.ts';

const checkout = createCheckoutFlow(demoServices());

describe('the flow graph', () => {
  it('lists every action and choice of the checkout as a step', () => {
    const { steps } = flowGraph(checkout);
    expect(steps.map((s) => s.id).sort()).toEqual(
      ['accountAddress', 'bankAccount', 'card', 'confirm', 'identify', 'login', 'newMethod', 'pay', 'paypal', 'product', 'register', 'resetCode', 'resetEmail', 'resetPassword', 'savedMethod'].sort(),
    );
    expect(steps.find((s) => s.id === 'pay')).toEqual({ id: 'pay', title: 'Choose how to pay', kind: 'choice' });
  });

  it('draws completions into the step they land on, choices, and fallbacks', () => {
    const { edges } = flowGraph(checkout);
    expect(edges).toEqual(
      expect.arrayContaining([
        { from: '$start', to: 'product', label: 'start' },
        { from: 'product', to: 'identify', label: 'complete' },
        { from: 'identify', to: 'resetEmail', label: 'choose forgotPassword' },
        { from: 'login', to: 'pay', label: 'complete' },
        { from: 'resetPassword', to: 'pay', label: 'complete' },
        { from: 'newMethod', to: 'bankAccount', label: 'choose bank' },
        { from: 'bankAccount', to: 'accountAddress', label: 'complete' },
        { from: 'accountAddress', to: 'confirm', label: 'complete' },
        { from: 'confirm', to: '$completed', label: 'complete' },
        { from: 'pay', to: 'identify', label: 'unless signedIn()' },
      ]),
    );
  });

  it('renders Mermaid text with steps as boxes, choices as diamonds, and labelled arrows', () => {
    const text = toMermaid(checkout);
    expect(text.split('\n')[0]).toBe('flowchart TD');
    expect(text).toContain('  pay{"Choose how to pay"}');
    expect(text).toContain('  product["Do you want to buy this?"]');
    expect(text).toContain('  start_ -->|"start"| product');
    expect(text).toContain('  confirm -->|"complete"| completed_');
  });

  it('renders Graphviz DOT text', () => {
    const text = toDot(checkout);
    expect(text.startsWith('digraph "checkout" {')).toBe(true);
    expect(text).toContain('"pay" [label="Choose how to pay", shape=diamond];');
    expect(text).toContain('"accountAddress" -> "confirm" [label="complete"];');
    expect(text.trim().endsWith('}')).toBe(true);
  });

  it('draws goTo targets and ENTERed children, and escapes quotes', () => {
    const flow = defineFlow({
      id: 'f',
      title: 'F',
      transitions: 'explicit',
      children: [
        action({ id: 'a', title: 'Say "hi"', targets: ['b'], children: [action({ id: 'kid', title: 'Kid' })] }),
        scaffold({ id: 'b', title: 'B', children: [action({ id: 'b1', title: 'B1', preconditions: [orGoTo(requiredState('x'), 'a')] })] }),
      ],
    });
    const { edges } = flowGraph(flow);
    expect(edges).toEqual(expect.arrayContaining([
      { from: 'a', to: 'b1', label: 'goTo b' },
      { from: 'a', to: 'kid', label: 'enter' },
      { from: 'kid', to: 'a', label: 'complete' },
      { from: 'b1', to: 'a', label: 'unless requiredState(x)' },
    ]));
    expect(toDot(flow)).toContain('"a" [label="Say \\"hi\\"", shape=box];');
  });
});
