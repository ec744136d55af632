import { describe, expect, it } from 'vitest';
import { type AnyNode, AutomationDefinitionError, defineAutomation, flow, requireDataParameters, validateAutomation } from '../../src/automations/index.ts';

describe('defineAutomation', () => {
  it('keeps the declaration order of the nodes', () => {
    const def = defineAutomation('Ordered', { nodes: { b: flow.execute(), a: flow.execute(), z: flow.end() } });
    expect(def.order).toEqual(['b', 'a', 'z']);
  });

  it('rejects a reference to an undeclared node at compile time', () => {
    const build = () =>
      defineAutomation('Typo', {
        nodes: {
          // @ts-expect-error 'ned' is not a node of this automation
          start: flow.execute().next('ned'),
          // @ts-expect-error 'strat' is not a node of this automation
          check: flow.if(true).thenDo('end').elseDo('strat'),
          // @ts-expect-error 'recovr' is not a node of this automation
          risky: flow.execute().onError('recovr'),
          // @ts-expect-error 'begin' is not a node of this automation
          again: flow.repeat('begin').everyDay(),
          // @ts-expect-error 'path_c' is not a node of this automation
          fork: flow.split().next('check').next('path_c'),
          join: flow.join(),
          end: flow.end(),
        },
      });
    expect(build).toThrow(AutomationDefinitionError);
  });

  it('reports every problem at once, each with its path', () => {
    const untyped = {
      id: flow.execute(),
      _private: flow.execute(),
      fork: flow.split().next('only'),
      only: flow.execute().onError('nowhere'),
      cond: flow.if(true),
      again: flow.repeat(),
      daily: flow.repeat().at(25, 0),
      join: flow.join().skipIf(true),
      late: flow.execute().skipAfter(-1),
      notANode: { kind: 'execute' },
      last: flow.execute(),
    } as unknown as Record<string, AnyNode>;
    let error: AutomationDefinitionError | undefined;
    try {
      defineAutomation('Broken', {
        nodes: untyped,
        unique: [],
        receivers: { 'bad-name': () => undefined, typed: requireDataParameters({ when: 'date' as 'string' }, () => undefined) },
      });
    } catch (e) {
      error = e as AutomationDefinitionError;
    }
    expect(error).toBeInstanceOf(AutomationDefinitionError);
    expect(error?.code).toBe('automation-definition');
    expect(error?.message).toContain('Automation "Broken" has');
    const paths = error?.problems.map((p) => p.path);
    expect(paths).toEqual([
      'nodes.id',
      'nodes._private',
      'nodes.fork.next',
      'nodes.only.onError',
      'nodes.cond.thenDo',
      'nodes.again.schedule',
      'nodes.daily.at',
      'nodes.join',
      'nodes.late.skipAfter',
      'nodes.notANode',
      'nodes.last',
      'unique',
      'receivers.bad-name',
      'receivers.typed.requires.when',
    ]);
    expect(error?.problems.find((p) => p.path === 'nodes.only.onError')?.message).toBe('refers to undeclared node "nowhere"');
  });

  it('needs a join for a split and at least one node', () => {
    const noJoin = validateAutomation(defineUnchecked({ fork: flow.split().next('a').next('b'), a: flow.end(), b: flow.end() }));
    expect(noJoin).toEqual([{ path: 'nodes', message: 'a split needs a join where its paths meet; add flow.join()' }]);
    expect(validateAutomation(defineUnchecked({}))[0]?.path).toBe('nodes');
  });

  it('refuses a join without a split, as the reference does ("Join() without Split()")', () => {
    const noSplit = validateAutomation(defineUnchecked({ start: flow.execute(), meet: flow.join(), end: flow.end() }));
    expect(noSplit).toEqual([{ path: 'nodes.meet', message: 'a join without a split: it would wait for paths no split starts; add flow.split() before it or remove the join' }]);
  });
});

function defineUnchecked(nodes: Record<string, AnyNode>) {
  return {
    name: 'Unchecked',
    verboseName: 'Unchecked',
    verboseNamePlural: 'Unchecked',
    order: Object.keys(nodes),
    nodes,
    unique: false,
    receivers: {},
    publishReceivers: false,
  };
}
