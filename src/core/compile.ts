import { assign, createMachine, type StateMachine } from 'xstate';
import type { AnyAction, Flow, FlowNode, Scaffold, TaskData } from './definition.ts';
import { DefinitionError } from './errors.ts';
import { ABORTED, buildModel, COMPLETED, type Destination, destinationOf, type FlowModel, isStep, type NodeInfo } from './model.ts';
import type { MovingOutcome, User } from './outcomes.ts';
import type { Phase } from './position.ts';
import type { Precondition } from './preconditions.ts';
import { findProblems } from './validate.ts';

/** One entry of the visited-step trail: which step, which visit, and the data as it was on entry. */
export interface TrailEntry {
  step: string;
  visit: number;
  data: TaskData;
}

/** The context of a compiled flow machine. All of it is persisted with the task. */
export interface FlowContext {
  data: TaskData;
  user: User | null;
  /** Interactive steps visited, oldest first, like browser history: `trail[at]` is the current step, later entries can be gone forward to. */
  trail: TrailEntry[];
  /** Index of the current step in `trail`. */
  at: number;
  /** The last input entered on each step, to prefill forms on back and resume. */
  inputs: Record<string, unknown>;
  visits: Record<string, number>;
  /** Epoch ms at which a suspended step resumes. */
  until: number | null;
  /** Why the task was aborted. */
  reason: string | null;
}

/**
 * Events a compiled flow machine accepts. The task runtime sends them; apps use the `Task`
 * methods. A submitted outcome is the event named by `outcomeEvent`: its type (`complete`,
 * `leave`, …), or `goto.<target>`.
 */
export type FlowMachineEvent =
  /** `step`: the step the outcome comes from (`task.abort()` names none). */
  | { type: OutcomeEventType; outcome: MovingOutcome; input?: unknown; step?: string }
  | { type: 'BACK' }
  | { type: 'GOTO'; step: string }
  | { type: 'DRAFT'; input: unknown }
  | { type: 'ENV'; user: User | null }
  /** Ends a suspension (the task sends it when the time has come, or when `resume()` is called early). */
  | { type: 'RESUME' };

/** The type of the event that carries an outcome. */
export type OutcomeEventType = Exclude<MovingOutcome['type'], 'goto'> | `goto.${string}`;

/** The event type of an outcome: its type, or `goto.<target>` (ids hold no dots). */
export const outcomeEvent = (outcome: MovingOutcome): OutcomeEventType => (outcome.type === 'goto' ? `goto.${outcome.to}` : outcome.type);

/**
 * The actor scope of a pure transition or first snapshot: `machine.transition(from, event, inert)`,
 * `machine.getInitialSnapshot(inert, input)`. XState's `transition()` and `initialTransition()` create an
 * actor, and with it the machine's first snapshot, on every call (a third of a step's transition). None is
 * needed: a compiled machine's actions are all `assign`s, resolved within the transition, so whatever XState
 * asks of the scope (its system, `defer`, the action executor) is this same do-nothing function.
 */
export const inert: never = new Proxy(() => {}, { get: () => inert }) as never;

/** The XState machine type a flow compiles to. */
// biome-ignore lint/suspicious/noExplicitAny: the generated machine's action, guard and state types are not statically known
export type FlowMachine = StateMachine<FlowContext, FlowMachineEvent, any, any, any, any, any, any, any, { data?: TaskData; user?: User | null }, any, any, any, any>;

/** A validated, indexed flow and the XState machine derived from it. */
export interface CompiledFlow {
  readonly flow: Flow;
  readonly model: FlowModel;
  readonly machine: FlowMachine;
}

type Guard = (args: { context: FlowContext; event: FlowMachineEvent }) => boolean;
interface Transition {
  target?: string;
  guard?: Guard;
  reenter?: boolean;
  actions?: unknown;
}
interface StateConfig {
  id?: string;
  type?: 'final';
  initial?: string;
  entry?: unknown;
  always?: Transition[];
  on?: Record<string, string | Transition | Transition[]>;
  states?: Record<string, StateConfig>;
}

const cache = new WeakMap<Flow, CompiledFlow>();
const ref = (destination: Destination) => `#${destination}`;
/** The event a handler receives is the one it is registered for (handlers narrow it with this type, at no runtime cost). */
type EventOf<T extends FlowMachineEvent['type']> = Extract<FlowMachineEvent, { type: T }>;

/** Applies an outcome to the context: one action for every transition that carries one. */
const effects = assign(({ context, event }: { context: FlowContext; event: FlowMachineEvent }) => {
  const { outcome, input, step } = event as EventOf<OutcomeEventType>;
  return {
    trail: context.trail.slice(0, context.at + 1),
    data: outcome.data ? { ...context.data, ...outcome.data } : context.data,
    user: outcome.user !== undefined ? outcome.user : context.user,
    inputs: input === undefined ? context.inputs : { ...context.inputs, [step!]: input },
    // Only the suspensions carry `until`.
    until: (outcome as { until?: number }).until ?? null,
    // Only an abort carries a reason.
    reason: (outcome as { reason?: string }).reason ?? context.reason,
  };
});

const enterStep = (step: string, interactive: boolean) =>
  assign(({ context }: { context: FlowContext }) => {
    const visit = (context.visits[step] ?? 0) + 1;
    const visits = { ...context.visits, [step]: visit };
    if (!interactive) return { visits };
    const at = context.trail[context.at]?.step === step ? context.at : context.at + 1;
    const trail = [...context.trail];
    trail.splice(at, trail[at]?.step === step ? 1 : trail.length, { step, visit, data: context.data });
    return { visits, trail, at };
  });

/** The states of a node's phases (see `Phase`); a misspelt phase is a type error. */
type PhaseStates = Partial<Record<Phase, StateConfig>>;

/**
 * A node's state, with the phases that check its preconditions on entry: `$gate`, where it
 * starts, and `$blocked`. A node without preconditions has neither and starts where `$gate`
 * would lead (`passed`): 1,000 steps make 2,000 state nodes and 1,000 transitions fewer.
 * LEAVE and BREAK lead every child of a node to the same place (see `directiveMove`), so the node
 * takes them for its children: one transition per node rather than one per child. An action at
 * `$returned` sends its own, which its parent takes; the target may be the node's own `$returned`,
 * which it is not left for (no `reenter`).
 */
function gated(info: NodeInfo, passed: string, states: PhaseStates & Record<string, StateConfig>): StateConfig {
  const preconditions: readonly Precondition[] = info.node.preconditions ?? [];
  const on: Record<string, Transition> = {};
  const child = info.children[0];
  if (child)
    for (const directive of ['leave', 'break'] as const)
      on[directive] = { guard: ({ event }) => (event as EventOf<OutcomeEventType>).step !== info.id, target: ref(destinationOf(child, directive)!), actions: effects };
  if (preconditions.length) {
    states.$blocked = {};
    states.$gate = {
      always: preconditions
        .map((p): Transition => ({
          // The context holds the data and the user a precondition looks at.
          guard: ({ context }) => !p.test(context),
          target: p.fallback ? ref(p.fallback) : ('$blocked' satisfies Phase),
        }))
        .concat({ target: passed }),
    };
  }
  return { id: info.id, initial: states.$gate ? '$gate' : passed, states, on };
}

function actionState(info: NodeInfo, nodes: FlowModel['nodes']): StateConfig {
  const node = info.node as AnyAction;
  const step = info.id;
  const next = destinationOf(info, 'continue');
  const outcomes: Record<string, Transition> = {
    suspend: { target: '$suspended', actions: effects },
    'suspend-and-repeat': { target: '$suspendedRepeat', actions: effects },
  };
  const go = (type: OutcomeEventType, destination: Destination | undefined) => {
    if (destination) outcomes[type] = { target: ref(destination), reenter: true, actions: effects };
  };
  go('complete', next);
  // `go` passes over an action without `onError`.
  for (const target of [...(node.targets ?? []), node.onError]) go(`goto.${target}`, target);
  // In an explicit scaffold the children name their targets: CONTINUE has no meaning there.
  if ((info.parent?.node as Scaffold | undefined)?.transitions !== 'explicit') go('continue', next);
  go('enter', destinationOf(info, 'enter'));
  const states: Record<string, StateConfig> = {
    $ready: { entry: enterStep(step, !node.auto), on: outcomes },
    $suspended: { on: { RESUME: ref(next!) } },
    $suspendedRepeat: { on: { RESUME: { target: ref(step), reenter: true } } },
  } satisfies PhaseStates;
  if (node.children?.length) {
    states.$returned = { on: outcomes };
    Object.assign(states, childStates(node.children, nodes));
  }
  return gated(info, '$ready', states);
}

function scaffoldState(info: NodeInfo, nodes: FlowModel['nodes']): StateConfig {
  const node = info.node as Scaffold;
  const choice = node.transitions === 'choice';
  const states = childStates(node.children, nodes);
  if (choice) {
    states.$choose = {
      entry: enterStep(info.id, true),
      on: Object.fromEntries(node.children.map((c) => [`goto.${c.id}`, { target: c.id, actions: effects }])),
    };
  }
  return gated(info, choice ? '$choose' : node.children[0]!.id, states);
}

function childStates(children: readonly FlowNode[], nodes: FlowModel['nodes']): Record<string, StateConfig> {
  const states: Record<string, StateConfig> = {};
  for (const child of children) {
    const info = nodes.get(child.id)!;
    states[child.id] = child.kind === 'action' ? actionState(info, nodes) : scaffoldState(info, nodes);
  }
  return states;
}

/** Transitions that move back (or forward again) to a visited step, restoring the data as it was when that step was entered. */
function revisit(model: FlowModel, pick: (context: FlowContext, event: FlowMachineEvent) => number): Transition[] {
  return [...model.nodes.values()]
    .filter((info) => isStep(info.node))
    .map((info) => ({
      guard: ({ context, event }) => context.trail[pick(context, event)]?.step === info.id,
      target: ref(info.id),
      reenter: true,
      actions: assign(({ context, event }: { context: FlowContext; event: FlowMachineEvent }) => {
        const at = pick(context, event);
        return { data: context.trail[at]!.data, at, until: null };
      }),
    }));
}

const otherVisit = (context: FlowContext, event: FlowMachineEvent) =>
  context.trail.findLastIndex((e, i) => i !== context.at && e.step === (event as EventOf<'GOTO'>).step);

/**
 * Validates a flow and derives its XState v5 machine: nested compound states
 * for scaffolds, guards for preconditions, and events for every outcome, back,
 * go-to, abort and resume. Throws a `DefinitionError` listing every problem.
 * The result is cached per flow object.
 * @example
 * const { machine } = compile(checkoutFlow);
 */
export function compile(flow: Flow): CompiledFlow {
  const cached = cache.get(flow);
  if (cached) return cached;
  const model = buildModel(flow);
  if (process.env.NODE_ENV !== 'production') {
    const problems = findProblems(model);
    if (problems.length > 0) throw new DefinitionError(String(flow.id), problems);
  }
  const config: StateConfig & Record<string, unknown> = {
    id: '$wayflow',
    context: ({ input }: { input: { data?: TaskData; user?: User | null } }): FlowContext => ({
      data: input.data ?? {},
      user: input.user ?? null,
      trail: [],
      at: -1,
      inputs: {},
      visits: {},
      until: null,
      reason: null,
    }),
    initial: flow.id,
    states: {
      [flow.id]: scaffoldState(model.root, model.nodes),
      [COMPLETED]: { id: COMPLETED, type: 'final' },
      [ABORTED]: { id: ABORTED, type: 'final' },
    },
    on: {
      BACK: revisit(model, (context) => context.at - 1),
      GOTO: revisit(model, otherVisit),
      // Every action's ABORT ends the flow, and so does `task.abort()`, from any step or phase: one transition for all.
      abort: { target: ref(ABORTED), actions: effects },
      DRAFT: {
        actions: assign(({ context, event }: { context: FlowContext; event: FlowMachineEvent }) => {
          const step = context.trail[context.at]?.step;
          return step ? { inputs: { ...context.inputs, [step]: (event as EventOf<'DRAFT'>).input } } : {};
        }),
      },
      ENV: { actions: assign(({ event }: { event: FlowMachineEvent }) => ({ user: (event as EventOf<'ENV'>).user })) },
    },
  };
  const compiled: CompiledFlow = { flow, model, machine: createMachine(config as never) as unknown as FlowMachine };
  cache.set(flow, compiled);
  return compiled;
}
