import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AnyAction,
  action,
  compile,
  defineFlow,
  type Flow,
  type FlowNode,
  type Outcome,
  outcome,
  requiredState,
  restoreTask,
  type Scaffold,
  scaffold,
  startTask,
} from '../../src/core/index.ts';
import { memoryStore, UNBOUND } from '../../src/persist/index.ts';

interface Shape {
  kind: 'action' | 'scaffold';
  policy: 'linear' | 'explicit' | 'choice';
  auto: boolean;
  guarded: boolean;
  children: Shape[];
}

const leaf: fc.Arbitrary<Shape> = fc.record({
  kind: fc.constant('action' as const),
  policy: fc.constant('linear' as const),
  auto: fc.nat(9).map((n) => n < 2),
  guarded: fc.boolean(),
  children: fc.constant([]),
});

/** Trees at most `depth` levels deep, at most 3 children per node. */
function shapeAt(depth: number): fc.Arbitrary<Shape> {
  if (depth === 0) return leaf;
  const below = shapeAt(depth - 1);
  return fc.oneof(
    leaf,
    fc.record({ kind: fc.constant('action' as const), policy: fc.constant('linear' as const), auto: fc.constant(false), guarded: fc.boolean(), children: fc.array(below, { minLength: 1, maxLength: 2 }) }),
    fc.record({
      kind: fc.constant('scaffold' as const),
      policy: fc.constantFrom('linear' as const, 'explicit' as const, 'choice' as const),
      auto: fc.constant(false),
      guarded: fc.boolean(),
      children: fc.array(below, { minLength: 1, maxLength: 3 }),
    }),
  );
}
const shape = shapeAt(3);

/** Turns a random shape into a well-formed flow: unique ids, targets that make every explicit child reachable. */
function build(root: Shape[]): Flow {
  let n = 0;
  const make = (s: Shape): FlowNode => {
    const id = `n${n++}`;
    const children = s.children.map(make);
    if (s.kind === 'scaffold') {
      if (s.policy === 'explicit' && children[0]?.kind === 'action' && children.length > 1) {
        const first = children[0] as AnyAction;
        children[0] = { ...first, targets: children.slice(1).map((c) => c.id) };
      }
      const policy = s.policy === 'explicit' && (children[0]?.kind !== 'action' || children.length === 1) ? 'linear' : s.policy;
      return scaffold({ id, title: id, transitions: policy, children, preconditions: s.guarded ? [requiredState('k1')] : [] }) as Scaffold;
    }
    return action({
      id,
      title: id,
      auto: s.auto && children.length === 0,
      children: children.length ? children : undefined,
      preconditions: s.guarded ? [requiredState('k0')] : [],
      submit: (_data, input) => (input as { next?: Outcome } | undefined)?.next,
    });
  };
  return defineFlow({ id: 'root', title: 'Root', children: root.map(make) });
}

const op = fc.oneof(
  fc.record({ op: fc.constant('submit' as const), kind: fc.constantFrom('complete', 'continue', 'leave', 'break', 'enter', 'goto', 'abort', 'suspend', 'fail'), pick: fc.nat(20), key: fc.constantFrom('k0', 'k1', 'other') }),
  fc.record({ op: fc.constant('back' as const) }),
  fc.record({ op: fc.constant('goTo' as const), pick: fc.nat(20) }),
  fc.record({ op: fc.constant('resume' as const) }),
);

describe('the engine, on random flows', () => {
  it('compiles every well-formed flow tree', () => {
    fc.assert(
      fc.property(fc.array(shape, { minLength: 1, maxLength: 4 }), (root) => {
        const flow = build(root);
        const { model, machine } = compile(flow);
        expect(model.nodes.size).toBeGreaterThan(root.length);
        expect(machine.id).toBe('$wayflow');
      }),
      { numRuns: 200 },
    );
  });

  it('never reaches an undeclared state, whatever the events', async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.array(shape, { minLength: 1, maxLength: 4 }), fc.array(op, { maxLength: 25 }), fc.boolean(), async (root, ops, seeded) => {
        const flow = build(root);
        const { model } = compile(flow);
        const store = memoryStore();
        let task = await startTask(flow, { store, data: seeded ? { k0: 1, k1: 1 } : {} }).catch(() => null);
        if (!task) return;
        let version = task.state.version;
        for (const o of ops) {
          const step = task.state.step;
          if (o.op === 'submit' && step) {
            if (step.kind === 'choice') {
              await task.submit({ choice: step.options[o.pick % Math.max(1, step.options.length)]?.id });
            } else {
              const node = model.nodes.get(step.id)!.node as AnyAction;
              const targets = node.targets ?? [];
              const next: Outcome =
                o.kind === 'goto'
                  ? outcome.goTo(targets[o.pick % Math.max(1, targets.length)] ?? 'n0', { [o.key]: 1 })
                  : o.kind === 'suspend'
                    ? outcome.suspend(Date.now() + 60_000)
                    : o.kind === 'fail'
                      ? outcome.fail('no')
                      : o.kind === 'abort'
                        ? outcome.abort()
                        : ({ type: o.kind, data: { [o.key]: 1 } } as Outcome);
              await task.submit({ next });
            }
          } else if (o.op === 'back') {
            await task.back().catch(() => undefined);
          } else if (o.op === 'goTo') {
            await task.goTo(task.state.visited[o.pick % Math.max(1, task.state.visited.length)] ?? 'n0').catch(() => undefined);
          } else if (o.op === 'resume') {
            await task.resume().catch(() => undefined);
          }
          const state = task.state;
          expect(['active', 'suspended', 'completed', 'aborted']).toContain(state.status);
          expect(state.version).toBeGreaterThanOrEqual(version);
          version = state.version;
          if (state.status === 'active' || state.status === 'suspended') {
            const info = model.nodes.get(state.step!.id);
            expect(info, `step ${state.step!.id} is declared`).toBeDefined();
            const node = info!.node;
            if (state.step!.kind === 'choice') expect(node.kind === 'scaffold' && node.transitions === 'choice').toBe(true);
            else expect(node.kind).toBe('action');
            let value = task.toRecord().snapshot.value as Record<string, unknown>;
            const path: string[] = [];
            while (value && typeof value === 'object') {
              const [key, inner] = Object.entries(value)[0]!;
              path.push(key);
              value = inner as Record<string, unknown>;
            }
            const chain: string[] = [];
            for (let at = info ?? null; at; at = at.parent) chain.unshift(at.id);
            expect(path).toEqual(chain);
          }
          seen.add(state.status);
          if (state.step) seen.add(state.step.kind);
        }
        task.dispose();
        const record = await store.get(task.id, UNBOUND);
        if (record) {
          const restored = await restoreTask(flow, record, { store });
          expect(restored.state.step?.id).toBe(task.state.step?.id);
          expect(restored.state.status).toBe(task.state.status);
          restored.dispose();
          task = restored;
        }
      }),
      { numRuns: 150 },
    );
    expect([...seen].sort()).toEqual(['aborted', 'active', 'choice', 'completed', 'form', 'suspended']);
  });
});
