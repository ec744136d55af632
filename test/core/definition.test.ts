import { describe, expect, it } from 'vitest';
import { action, compile, DefinitionError, defineFlow, orGoTo, requiredState, scaffold } from '../../src/core/index.ts';

const step = (id: string, extra: Partial<Parameters<typeof action>[0]> = {}) => action({ id, title: id, ...extra });

function problemsOf(build: () => unknown): { path: string; message: string }[] {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(DefinitionError);
    expect((error as DefinitionError).code).toBe('definition');
    return (error as DefinitionError).problems;
  }
  throw new Error('expected a DefinitionError');
}

describe('definition errors', () => {
  it('reports every problem at once, each with its path', () => {
    const flow = defineFlow({
      id: 'f',
      title: 'F',
      children: [
        step('a', { targets: ['nowhere'] }),
        scaffold({ id: 'empty', title: 'Empty', children: [] }),
        scaffold({ id: 's', title: 'S', children: [step('a'), step('bad id')] }),
      ],
    });
    const problems = problemsOf(() => compile(flow));
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: 'f > a', message: 'target "nowhere" is not an action or scaffold of this flow' },
        { path: 'f > empty', message: 'scaffold has no children; give it at least one action or scaffold' },
        { path: 'f > s > a', message: 'duplicate id "a" (also at f > a)' },
        { path: 'f > s > bad id', message: 'id "bad id" must start with a letter and hold only letters, digits, "-" and "_"' },
      ]),
    );
    expect(problems).toHaveLength(4);
    expect(() => compile(flow)).toThrow(/^Flow "f" has 4 definition problem\(s\):\n {2}- f > empty: scaffold has no children/);
  });

  it('reports an unknown precondition fallback', () => {
    const flow = defineFlow({ id: 'f', title: 'F', children: [step('a', { preconditions: [orGoTo(requiredState('x'), 'login')] })] });
    expect(problemsOf(() => compile(flow))).toEqual([{ path: 'f > a', message: 'precondition fallback "login" is not an action or scaffold of this flow' }]);
  });

  it('reports actions no path can reach', () => {
    const flow = defineFlow({
      id: 'f',
      title: 'F',
      transitions: 'explicit',
      children: [step('start', { targets: ['reached'] }), step('reached'), step('orphan')],
    });
    expect(problemsOf(() => compile(flow))).toEqual([
      { path: 'f > orphan', message: 'action "orphan" is unreachable: no sibling completes into it and no action names it as a target or fallback' },
    ]);
  });

  it('counts fallbacks and ENTERed children as ways in', () => {
    const flow = defineFlow({
      id: 'f',
      title: 'F',
      transitions: 'explicit',
      children: [step('start', { preconditions: [orGoTo(requiredState('x'), 'rescue')], children: [step('kid')] }), step('rescue')],
    });
    expect(compile(flow).model.nodes.size).toBe(4);
  });

  it('reports fallbacks that would send a task round in circles', () => {
    const flow = defineFlow({
      id: 'f',
      title: 'F',
      children: [
        step('a', { preconditions: [orGoTo(requiredState('x'), 'b')] }),
        step('b', { preconditions: [orGoTo(requiredState('y'), 'a')] }),
      ],
    });
    const [problem, ...rest] = problemsOf(() => compile(flow));
    expect(rest).toEqual([]);
    expect(problem!.message).toMatch(/^precondition fallbacks form a cycle: (a -> b -> a|b -> a -> b)$/);
  });

  it('reports a fallback to the scaffold whose first step declares it', () => {
    const flow = defineFlow({
      id: 'f',
      title: 'F',
      children: [scaffold({ id: 's', title: 'S', children: [step('a', { preconditions: [orGoTo(requiredState('x'), 's')] })] })],
    });
    expect(problemsOf(() => compile(flow))[0]!.message).toBe('precondition fallbacks form a cycle: s -> s');
  });

  it('reports auto actions with a schema, returnFromChildren without children, bad versions and paths', () => {
    const schema = { '~standard': { version: 1 as const, vendor: 'x', validate: (v: unknown) => ({ value: v }) } };
    const flow = defineFlow({
      id: 'f',
      title: 'F',
      version: 0,
      maxHotLoop: 0,
      children: [step('a', { auto: true, schema }), step('b', { returnFromChildren: () => undefined }), step('c', { path: 'a' })],
    });
    expect(problemsOf(() => compile(flow)).map((p) => p.message)).toEqual([
      'path segment "a" is used twice in "f"',
      'version must be a positive integer, got 0',
      'maxHotLoop must be at least 1, got 0',
      'an auto action runs without input, so it cannot have a schema',
      'returnFromChildren is declared but the action has no children',
    ]);
  });

  it('rejects a misspelt goTo target at compile time', () => {
    action({
      id: 'a',
      title: 'A',
      targets: ['confirm'],
      // @ts-expect-error "confrim" is not a declared target
      submit: (_d, _i, { goTo }) => goTo('confrim'),
    });
  });

  it('compiles a flow once and caches the machine', () => {
    const flow = defineFlow({ id: 'f', title: 'F', children: [step('a')] });
    expect(compile(flow)).toBe(compile(flow));
    expect(compile(flow).machine.id).toBe('$wayflow');
  });
});
