import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { executeFlowRun, type FlowAction, type FlowRun, flowAction } from '../../src/automations/index.ts';
import { directiveMove, type TreeNode } from '../../src/core/directives.ts';
import { action, defineFlow, type FlowNode, type Outcome, startTask } from '../../src/core/index.ts';

interface Node extends TreeNode<Node> {
  name: string;
  next?: Node | undefined;
  children: Node[];
}

/** A tree of named nodes: `[name, children]`, linked like the browser's and the server's trees. */
function tree(spec: [string, ...unknown[]][], parent: Node | null = null): Node[] {
  const nodes = spec.map(([name]): Node => ({ name, parent, children: [] }));
  nodes.forEach((node, i) => {
    node.next = nodes[i + 1];
    node.children = tree((spec[i]![1] ?? []) as [string, ...unknown[]][], node);
  });
  return nodes;
}

const named = (move: ReturnType<typeof directiveMove<Node>>) =>
  move === undefined ? 'not possible' : 'run' in move ? `run ${move.run.name}` : `back to ${move.back?.name ?? 'the top: end'}`;

describe('directiveMove', () => {
  const [loop, after] = tree([['loop', [['a'], ['b']]], ['after']]);
  const [a, b] = loop!.children;

  it('CONTINUE runs the next sibling, and goes back to the parent after the last', () => {
    expect(named(directiveMove(a!, 'continue'))).toBe('run b');
    expect(named(directiveMove(b!, 'continue'))).toBe('back to loop');
    expect(named(directiveMove(after!, 'continue'))).toBe('back to the top: end');
  });

  it('ENTER runs the first child, and is not possible without children', () => {
    expect(named(directiveMove(loop!, 'enter'))).toBe('run a');
    expect(named(directiveMove(a!, 'enter'))).toBe('not possible');
  });

  it('LEAVE goes back to the parent at once, whose return-from-children path decides', () => {
    expect(named(directiveMove(a!, 'leave'))).toBe('back to loop');
    expect(named(directiveMove(loop!, 'leave'))).toBe('back to the top: end');
  });

  it('BREAK goes on after the parent without going back to it', () => {
    expect(named(directiveMove(a!, 'break'))).toBe('run after');
    expect(named(directiveMove(loop!, 'break'))).toBe('back to the top: end');
    const [outer] = tree([['outer', [['inner', [['x']]]]]]);
    expect(named(directiveMove(outer!.children[0]!.children[0]!, 'break'))).toBe('back to outer');
  });
});

type Directive = 'continue' | 'enter' | 'leave' | 'break';
interface Shape {
  runs: Directive[];
  returns: Directive[];
  children: Shape[];
}

const directive = fc.constantFrom<Directive>('continue', 'enter', 'leave', 'break');
const shapes = (depth: number): fc.Arbitrary<Shape[]> =>
  fc.array(
    fc.record({
      runs: fc.array(directive, { maxLength: 3 }),
      returns: fc.array(directive, { maxLength: 3 }),
      children: depth === 0 ? fc.constant<Shape[]>([]) : fc.oneof(fc.constant<Shape[]>([]), shapes(depth - 1)),
    }),
    { minLength: 1, maxLength: 3 },
  );

/** The n-th directive of a list, CONTINUE once it is used up (so every run ends); ENTER only where there are children. */
const pick = (list: Directive[], n: number, shape: Shape): Directive => {
  const d = list[n] ?? 'continue';
  return d === 'enter' && shape.children.length === 0 ? 'continue' : d;
};

describe('the browser and the server follow the same directive rules', () => {
  it('random trees of automatic actions run the same actions in the same order in a task and in a flowcontrol run', async () => {
    await fc.assert(
      fc.asyncProperty(shapes(2), async (root) => {
        const browserTrace: string[] = [];
        let id = 0;
        const browserNodes = (list: Shape[]): FlowNode[] =>
          list.map((shape) => {
            const name = `n${id++}`;
            let runs = 0;
            let returns = 0;
            const children = browserNodes(shape.children);
            return action({
              id: name,
              title: name,
              auto: true,
              ...(children.length ? { children } : {}),
              submit: () => {
                browserTrace.push(`${name}.run`);
                return { type: pick(shape.runs, runs++, shape) } as Outcome;
              },
              ...(children.length
                ? {
                    returnFromChildren: () => {
                      browserTrace.push(`${name}.return`);
                      return { type: pick(shape.returns, returns++, shape) } as Outcome;
                    },
                  }
                : {}),
            });
          });
        const flow = defineFlow({ id: 'random', title: 'Random', maxHotLoop: 1000, children: browserNodes(root) });
        const task = await startTask(flow);

        const serverTrace: string[] = [];
        id = 0;
        const serverActions = (list: Shape[]): FlowAction[] =>
          list.map((shape) => {
            const name = `n${id++}`;
            let runs = 0;
            let returns = 0;
            return flowAction(
              name,
              () => {
                serverTrace.push(`${name}.run`);
                return pick(shape.runs, runs++, shape);
              },
              {
                children: serverActions(shape.children),
                returnFromChildren: () => {
                  serverTrace.push(`${name}.return`);
                  return pick(shape.returns, returns++, shape);
                },
              },
            );
          });
        const start: FlowRun = {
          id: 'r',
          flow: 'random',
          status: 'pending',
          position: [],
          resume: 'next',
          continueAfter: null,
          state: {},
          objectId: null,
          trigger: null,
          createdAt: 0,
          finishedAt: null,
          error: null,
          log: [],
          parentId: null,
          loops: {},
        };
        const run = await executeFlowRun({ name: 'random', actions: serverActions(root) }, start, 0, 1000);

        expect(task.state.error).toBeNull();
        expect(task.state.status).toBe('completed');
        expect(run.status).toBe('done');
        expect(browserTrace).toEqual(serverTrace);
      }),
      { numRuns: 150 },
    );
  });
});
