import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAutomation, flow, startInstance, step } from '../../src/automations/index.ts';
import { copyState } from '../../src/automations/draft.ts';
import { T0 } from './harness.ts';

describe('copyState', () => {
  it('copies plain objects and arrays deeply, holes and undefined included', () => {
    const paths: number[] = [1];
    paths[2] = 3;
    const state = { data: { cart: [{ item: 'book', qty: 2 }], note: undefined }, paths, nothing: null };
    const copy = copyState(state);
    expect(copy).toStrictEqual(state);
    copy.data.cart[0]!.qty = 5;
    copy.paths.push(4);
    expect(state.data.cart[0]!.qty).toBe(2);
    expect(state.paths).toHaveLength(3);
    expect(1 in copy.paths).toBe(false);
  });

  it('leaves what is not plain to structuredClone: dates stay dates, cycles survive, functions throw', () => {
    const at = new Date(T0);
    const copy = copyState({ at, tags: new Set(['a']) });
    expect(copy.at).toBeInstanceOf(Date);
    expect(copy.at).not.toBe(at);
    expect(copy.at.getTime()).toBe(T0);
    expect([...copy.tags]).toEqual(['a']);
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    let deep = copyState(cyclic);
    for (let i = 0; i < 100; i++) deep = deep.self as Record<string, unknown>;
    expect(deep.name).toBe('loop');
    expect(() => copyState({ run: () => 1 })).toThrow();
  });
});

describe('a tick with nothing to do', () => {
  it('answers unchanged without running node code when every path waits at its form', async () => {
    let skipChecks = 0;
    const def = defineAutomation('Waits', {
      nodes: {
        ask: flow.form(z.object({ ok: z.boolean() })).user('u1'),
        check: flow
          .form(z.object({ ok: z.boolean() }))
          .user('u1')
          .skipIf(() => {
            skipChecks++;
            return false;
          }),
        end: flow.end(),
      },
    });
    const started = await startInstance(def, { id: 'i1', key: 'k1', data: { n: 1 }, now: T0 });
    const opened = await step(def, started.state, T0);
    const waiting = await step(def, opened.state, T0 + 1);
    expect(waiting).toEqual({ state: opened.state, history: [], effects: [], changed: false });
    // A SkipIf condition is node code: that path is looked at on every tick.
    const atCheck = { ...opened.state, paths: opened.state.paths.map((p) => ({ ...p, node: 'check' })) };
    expect((await step(def, atCheck, T0 + 2)).changed).toBe(false);
    expect(skipChecks).toBe(1);
  });
});
