import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AnyNode,
  flowAction,
  defineAutomation,
  type FlowAction,
  FlowControl,
  type FlowDirectiveValue,
  flow,
  ManualClock,
  minutes,
  suspend,
  suspendAndRepeat,
} from '../../src/automations/index.ts';
import { harness, T0 } from './harness.ts';

type NodeSpec =
  | { kind: 'execute'; next: number | null; wait: number; fails: boolean; onError: number | null }
  | { kind: 'if'; flag: number; whenTrue: number; whenFalse: number | null }
  | { kind: 'skip'; flag: number; next: number | null };

const nodeSpec = (count: number): fc.Arbitrary<NodeSpec> => {
  const target = fc.integer({ min: 0, max: count - 1 });
  return fc.oneof(
    fc.record({
      kind: fc.constant('execute' as const),
      next: fc.option(target),
      wait: fc.integer({ min: 0, max: 30 }),
      fails: fc.boolean(),
      onError: fc.option(target),
    }),
    fc.record({ kind: fc.constant('if' as const), flag: fc.integer({ min: 0, max: 2 }), whenTrue: target, whenFalse: fc.option(target) }),
    fc.record({ kind: fc.constant('skip' as const), flag: fc.integer({ min: 0, max: 2 }), next: fc.option(target) }),
  );
};

/** A random automation: nodes n0…n(k-1) with random gotos, branches, waits and failures, ending in an End node. */
const randomAutomation = fc.integer({ min: 1, max: 7 }).chain((k) => fc.array(nodeSpec(k + 1), { minLength: k, maxLength: k }));

function build(specs: NodeSpec[]) {
  const name = (i: number) => `n${i}`;
  const flag = (i: number) => (ctx: { data: Record<string, unknown> }) => (ctx.data.flags as boolean[])[i] === true;
  const nodes: Record<string, AnyNode> = {};
  specs.forEach((spec, i) => {
    if (spec.kind === 'execute') {
      const node = flow.execute(() => {
        if (spec.fails) throw new Error(`n${i} failed`);
      });
      if (spec.wait > 0) node.afterWaitingFor(minutes(spec.wait));
      if (spec.next !== null) node.next(name(spec.next));
      if (spec.onError !== null) node.onError(name(spec.onError));
      nodes[name(i)] = node;
    } else if (spec.kind === 'if') {
      const node = flow.if(flag(spec.flag)).thenDo(name(spec.whenTrue));
      if (spec.whenFalse !== null) node.elseDo(name(spec.whenFalse));
      nodes[name(i)] = node;
    } else {
      const node = flow.execute().skipIf(flag(spec.flag)).asSoonAs(flag((spec.flag + 1) % 3));
      if (spec.next !== null) node.next(name(spec.next));
      nodes[name(i)] = node;
    }
  });
  nodes[name(specs.length)] = flow.end();
  return defineAutomation('Random', {
    nodes,
    receivers: {
      toggle: (ctx, _token, payload) => {
        const flags = [...(ctx.data.flags as boolean[])];
        flags[payload.flag as number] = !flags[payload.flag as number];
        ctx.data.flags = flags;
      },
    },
  });
}

type Event = { type: 'advance'; minutes: number } | { type: 'step' } | { type: 'toggle'; flag: number };
const events = fc.array(
  fc.oneof(
    fc.record({ type: fc.constant('advance' as const), minutes: fc.integer({ min: 1, max: 40 }) }),
    fc.constant({ type: 'step' as const }),
    fc.record({ type: fc.constant('toggle' as const), flag: fc.integer({ min: 0, max: 2 }) }),
  ),
  { maxLength: 12 },
);

describe('engine properties', () => {
  it('random definitions under random events never reach an undeclared node and never run before a due time', async () => {
    await fc.assert(
      fc.asyncProperty(randomAutomation, fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), events, async (specs, flags, script: Event[]) => {
        const def = build(specs);
        const declared = new Set<string>(def.order);
        const { runner, clock } = harness([def], { maxStepsPerRun: 40 });
        const { id } = await runner.create(def, { flags });
        const check = async () => {
          const instance = await runner.get(id);
          for (const path of instance.paths) expect(declared.has(path.node)).toBe(true);
          const rows = await runner.history(id);
          for (const row of rows) {
            expect(declared.has(row.status)).toBe(true);
            // A waiting Execute is never finished before its wait elapsed (unless skipped or failed earlier).
            const spec = specs[Number(row.status.slice(1))];
            if (spec?.kind === 'execute' && row.message === 'OK' && row.finished !== null) {
              expect(row.finished).toBeGreaterThanOrEqual(row.created + minutes(spec.wait));
            }
          }
          if (instance.finished) expect(instance.paths).toEqual([]);
        };
        await check();
        for (const event of script) {
          if (event.type === 'advance') clock.advance(minutes(event.minutes));
          else if (event.type === 'step') await runner.stepAll();
          else if (!(await runner.get(id)).finished) await runner.sendMessage(id, 'toggle', undefined, { flag: event.flag });
          await check();
        }
      }),
      { numRuns: 60 },
    );
  });

  it('a join never continues before every path of its split has arrived', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 120 }), { minLength: 2, maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 10 }),
        async (waits, ticks) => {
          const nodes: Record<string, AnyNode> = {};
          const split = flow.split();
          for (const i of waits.keys()) split.next(`path${i}`);
          nodes.fork = split;
          waits.forEach((wait, i) => {
            nodes[`path${i}`] = flow
              .execute((ctx) => {
                ctx.data[`arrived${i}`] = ctx.now;
              })
              .afterWaitingFor(minutes(wait))
              .next('join');
          });
          nodes.join = flow.join();
          nodes.after = flow.execute((ctx) => {
            ctx.data.after = ctx.now;
            ctx.data.afterRuns = ((ctx.data.afterRuns as number) ?? 0) + 1;
          });
          nodes.end = flow.end();
          const def = defineAutomation('Fan', { nodes });
          const { runner, clock } = harness([def]);
          const { id } = await runner.create(def);
          for (const tick of [...ticks, 200]) {
            clock.advance(minutes(tick));
            await runner.runUntilIdle();
            const { data, finished } = await runner.get(id);
            const arrived = waits.filter((_, i) => data[`arrived${i}`] !== undefined).length;
            if (data.after !== undefined) {
              expect(arrived).toBe(waits.length);
              expect(data.after).toBeGreaterThanOrEqual(T0 + minutes(Math.max(...waits)));
              expect(data.afterRuns).toBe(1);
            } else {
              expect(finished).toBe(false);
            }
          }
          expect((await runner.get(id)).finished).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('flowcontrol properties', () => {
  type Tree = { directives: string[]; children: Tree[] };
  const directive = fc.constantFrom('continue', 'enter', 'leave', 'break', 'abort', 'suspend', 'suspend-and-repeat');
  const treeOf = (depth: number): fc.Arbitrary<Tree[]> =>
    fc.array(
      fc.record({
        directives: fc.array(directive, { maxLength: 4 }),
        children: depth === 0 ? fc.constant<Tree[]>([]) : fc.oneof(fc.constant<Tree[]>([]), treeOf(depth - 1)),
      }),
      { minLength: 1, maxLength: 3 },
    );
  const tree = treeOf(2);

  it('random action trees with random directives always stop in a known state at a real action', async () => {
    await fc.assert(
      fc.asyncProperty(tree, async (trees) => {
        const names = new Set<string>();
        let counter = 0;
        const build = (list: Tree[]): FlowAction[] =>
          list.map((t) => {
            const name = `a${counter++}`;
            names.add(name);
            let calls = 0;
            return flowAction(
              name,
              (ctx) => {
                const d = t.directives[calls++ % Math.max(1, t.directives.length)] ?? 'continue';
                if (d === 'suspend') return suspend(ctx.now + 1);
                if (d === 'suspend-and-repeat') return suspendAndRepeat(ctx.now + 1);
                return d as FlowDirectiveValue;
              },
              { children: build(t.children) },
            );
          });
        const actions = build(trees);
        const clock = new ManualClock(T0);
        const control = new FlowControl({ flows: [{ name: 'random', actions }], clock, maxHotLoop: 20 });
        let run = await control.startRun('random');
        for (let i = 0; i < 5 && run?.status === 'waiting'; i++) {
          clock.advance(1);
          run = (await control.continueFlowRuns())[0] ?? null;
        }
        expect(['done', 'aborted', 'failed', 'waiting']).toContain(run?.status);
        for (const entry of run?.log ?? []) expect(names.has(entry.action)).toBe(true);
        if (run?.status === 'failed') expect(run.error).toMatch(/ran more than 20 times|returned ENTER but has no children/);
      }),
      { numRuns: 100 },
    );
  });
});
