import type { HistoryEntry } from '../../core/index.ts';
import type { FunnelMoveView, FunnelStepView, FunnelView } from '../../sync/index.ts';

/** One task as a funnel counts it: its flow version, when it was created, its history, and whether it has ended (expired or deleted). */
export interface FunnelTask {
  flowVersion: number;
  createdAt: number;
  history: readonly HistoryEntry[];
  /** Expired (idle past its timeout), swept or deleted; false while it is live. */
  ended: boolean;
}

/** The window a funnel counts: tasks created at or after `since` and before `until` (epoch ms). */
export interface FunnelWindow {
  since: number;
  until: number;
}

/** What the SQL (`readFunnels`) and the model (`funnelsOf`) count for one flow version, before `shapeFunnel` orders it. */
export interface FunnelFigures {
  flowVersion: number;
  started: number;
  completed: number;
  aborted: number;
  /** Per step: unfinished ended tasks whose last entry is there, and unfinished live ones. */
  abandonedAt: Record<string, number>;
  inProgressAt: Record<string, number>;
  reached: Record<string, number>;
  /** Tasks started at each step (to order the steps). */
  starts: Record<string, number>;
  refused: Record<string, number>;
  refusedFields: Record<string, Record<string, number>>;
  /** Per step: the median and 90th percentile (`percentile_disc`) of the time spent on one visit. */
  times: Record<string, { medianMs: number; p90Ms: number }>;
  forward: FunnelMoveView[];
  back: FunnelMoveView[];
}

/** Events that move a task forward; `back` and `goto` move it back, `refused`, `fork`, `migrate` and `draft` do not move it. */
export const FORWARD_EVENTS = ['submit', 'auto', 'error', 'resume'] as const;
/** Events that move a task back to a visited step (or forward again to one gone back from). */
export const BACK_EVENTS = ['back', 'goto'] as const;

/** `to` values that are no step: `$completed`, `$aborted`. */
export const isStep = (to: string) => !to.startsWith('$');

/** An empty set of figures for `flowVersion`. */
export function emptyFigures(flowVersion: number): FunnelFigures {
  return {
    flowVersion,
    started: 0,
    completed: 0,
    aborted: 0,
    abandonedAt: {},
    inProgressAt: {},
    reached: {},
    starts: {},
    refused: {},
    refusedFields: {},
    times: {},
    forward: [],
    back: [],
  };
}

/** The value of `sorted` (ascending) at fraction `p`, as PostgreSQL's `percentile_disc`: the first whose position reaches `p`. */
export function percentileDisc(sorted: readonly number[], p: number): number {
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1]!;
}

/** Adds `n` to `counts[key]`. */
export const add = (counts: Record<string, number>, key: string, n = 1) => {
  counts[key] = (counts[key] ?? 0) + n;
};

/** What joins the two steps of a move, and a step and a field, in `TaskFacts` (step ids and field names hold no line breaks). */
export const PAIR = '\n';

/**
 * What one task adds to a funnel, read from its history once. The sweeper keeps them with the task's outcome, so a
 * funnel counts the tasks it swept by plain SQL over these columns instead of unnesting every history again.
 */
export interface TaskFacts {
  /** `completed` or `aborted` when the history reached `$completed` or `$aborted` (completed first), else null. */
  finished: 'completed' | 'aborted' | null;
  /** Where the last history entry left the task; null for an empty history. */
  last: string | null;
  /** Every step the task entered, once each. */
  steps: string[];
  /** The steps it started at. */
  starts: string[];
  /** Its forward moves (`FORWARD_EVENTS`, between two different places), `from` and `to` joined by `PAIR`. */
  forward: string[];
  /** Its moves by `BACK_EVENTS`, joined alike. */
  back: string[];
  /** The step of each refused submission. */
  refused: string[];
  /** The step and each field a refused submission named, joined by `PAIR`. */
  fields: string[];
  /** The time spent on each visit that ended: the step entered by a move, and the time until the next move. */
  spentSteps: string[];
  spentMs: number[];
}

/** The facts of one history (see `TaskFacts`). */
export function taskFacts(history: readonly HistoryEntry[]): TaskFacts {
  const facts: TaskFacts = { finished: null, last: history.at(-1)?.to ?? null, steps: [], starts: [], forward: [], back: [], refused: [], fields: [], spentSteps: [], spentMs: [] };
  if (history.some((entry) => entry.to === '$completed')) facts.finished = 'completed';
  else if (history.some((entry) => entry.to === '$aborted')) facts.finished = 'aborted';
  facts.steps = [...new Set(history.map((entry) => entry.to).filter(isStep))];
  let entered: HistoryEntry | null = null;
  for (const entry of history) {
    if (entry.event === 'start') facts.starts.push(entry.to);
    if (entry.from !== null && entry.from !== entry.to && (FORWARD_EVENTS as readonly string[]).includes(entry.event)) facts.forward.push(`${entry.from}${PAIR}${entry.to}`);
    if (entry.from !== null && (BACK_EVENTS as readonly string[]).includes(entry.event)) facts.back.push(`${entry.from}${PAIR}${entry.to}`);
    if (entry.event === 'refused' && entry.from !== null) {
      facts.refused.push(entry.from);
      for (const field of entry.fields ?? []) facts.fields.push(`${entry.from}${PAIR}${field}`);
    }
    if (entry.from === entry.to) continue;
    // A move: the step entered by the move before it was left now.
    if (entered && isStep(entered.to)) {
      facts.spentSteps.push(entered.to);
      facts.spentMs.push(entry.at - entered.at);
    }
    entered = entry;
  }
  return facts;
}

/** What each tag of `tagsOf` counts, by its first character. */
export const TAG_KINDS = { r: 'reached', s: 'starts', f: 'forward', b: 'back', x: 'refused', y: 'field' } as const;

/**
 * The counted facts of a task as one list, each prefixed with the letter of its kind (`TAG_KINDS`): the funnel query
 * counts them all in one pass (`unnest`, group by), the sweeper keeps them in one column.
 */
export function tagsOf(facts: TaskFacts): string[] {
  const tag = (letter: keyof typeof TAG_KINDS, values: string[]) => values.map((value) => letter + value);
  return [...tag('r', facts.steps), ...tag('s', facts.starts), ...tag('f', facts.forward), ...tag('b', facts.back), ...tag('x', facts.refused), ...tag('y', facts.fields)];
}

/** `pair` split at its first `PAIR`. */
export function splitPair(pair: string): [string, string] {
  const at = pair.indexOf(PAIR);
  return [pair.slice(0, at), pair.slice(at + 1)];
}

/**
 * The model of the funnel arithmetic, over task records in memory: the figures `readFunnels` computes in SQL, per flow
 * version present in `tasks` created in `window`. The property test holds the two to the same results.
 */
export function funnelsOf(flowId: string, tasks: readonly FunnelTask[], window: FunnelWindow): FunnelView[] {
  const byVersion = new Map<number, { figures: FunnelFigures; spent: Record<string, number[]>; forward: Record<string, number>; back: Record<string, number> }>();
  for (const task of tasks) {
    if (task.createdAt < window.since || task.createdAt >= window.until) continue;
    const version = byVersion.get(task.flowVersion) ?? { figures: emptyFigures(task.flowVersion), spent: {}, forward: {}, back: {} };
    byVersion.set(task.flowVersion, version);
    const { figures } = version;
    const facts = taskFacts(task.history);
    figures.started++;
    if (facts.finished) figures[facts.finished]++;
    else if (facts.last !== null) add(task.ended ? figures.abandonedAt : figures.inProgressAt, facts.last);
    for (const step of facts.steps) add(figures.reached, step);
    for (const step of facts.starts) add(figures.starts, step);
    for (const move of facts.forward) add(version.forward, move);
    for (const move of facts.back) add(version.back, move);
    for (const step of facts.refused) add(figures.refused, step);
    for (const pair of facts.fields) {
      const [step, field] = splitPair(pair);
      figures.refusedFields[step] = { ...figures.refusedFields[step], [field]: (figures.refusedFields[step]?.[field] ?? 0) + 1 };
    }
    for (const [i, step] of facts.spentSteps.entries()) {
      const spent = version.spent[step] ?? [];
      spent.push(facts.spentMs[i]!);
      version.spent[step] = spent;
    }
  }
  const moves = (counts: Record<string, number>) =>
    Object.entries(counts).map(([pair, count]): FunnelMoveView => {
      const [from, to] = splitPair(pair);
      return { from, to, count };
    });
  return [...byVersion.values()]
    .map(({ figures, spent, forward, back }) => {
      for (const [step, values] of Object.entries(spent)) {
        const sorted = values.sort((a, b) => a - b);
        figures.times[step] = { medianMs: percentileDisc(sorted, 0.5), p90Ms: percentileDisc(sorted, 0.9) };
      }
      figures.forward = moves(forward);
      figures.back = moves(back);
      return shapeFunnel(flowId, figures, window);
    })
    .sort((a, b) => b.flowVersion - a.flowVersion);
}

const byCount = (a: FunnelMoveView, b: FunnelMoveView) => b.count - a.count || (a.from < b.from ? -1 : a.from > b.from ? 1 : 0) || (a.to < b.to ? -1 : a.to > b.to ? 1 : 0);
const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/**
 * Orders one version's figures into a `FunnelView`: steps in the order tasks moved forward in (from the steps tasks
 * started at, each after the steps leading to it, a branch drawn whole before the next, the most travelled first), each
 * with where tasks went next, the step it is a branch of and how deep it is indented.
 */
export function shapeFunnel(flowId: string, figures: FunnelFigures, window: FunnelWindow): FunnelView {
  const { reached } = figures;
  const steps = Object.keys(reached);
  // Moves between two steps reached, most travelled first; a step's own repeats are no edge.
  const edges = [...figures.forward].sort(byCount).filter((move) => move.from !== move.to && move.from in reached && move.to in reached);
  const next = new Map<string, string[]>();
  const previous = new Map<string, Set<string>>();
  for (const move of edges) {
    next.set(move.from, [...(next.get(move.from) ?? []), move.to]);
    previous.set(move.to, (previous.get(move.to) ?? new Set()).add(move.from));
  }
  const byReach = (a: string, b: string) => (reached[b] ?? 0) - (reached[a] ?? 0) || (a < b ? -1 : a > b ? 1 : 0);
  const branching = (step: string) => (next.get(step)?.length ?? 0) > 1;
  // Topological order, depth first: a step comes after every step moving forward to it, and a branch is drawn whole
  // (its steps one after the other) before the next branch; a cycle is broken at its most reached step.
  const waiting = new Map(steps.map((step) => [step, previous.get(step)?.size ?? 0]));
  const placed = new Set<string>();
  const order: string[] = [];
  const depth = new Map<string, number>();
  const stack = Object.keys(figures.starts)
    .filter((step) => step in reached)
    .sort((a, b) => (figures.starts[a] ?? 0) - (figures.starts[b] ?? 0) || byReach(b, a));
  while (order.length < steps.length) {
    let step = stack.pop();
    if (step === undefined) {
      const linked = (candidate: string) => [...(previous.get(candidate) ?? [])].some((from) => placed.has(from));
      step = steps.filter((candidate) => !placed.has(candidate)).sort((a, b) => Number(linked(b)) - Number(linked(a)) || byReach(a, b))[0]!;
    }
    if (placed.has(step)) continue;
    placed.add(step);
    order.push(step);
    // Indented under a step that branches; a step several steps lead to goes back out one level.
    const from = [...(previous.get(step) ?? [])].filter((p) => depth.has(p));
    const only = from.length === 1 ? from[0]! : null;
    depth.set(step, only !== null ? depth.get(only)! + (branching(only) ? 1 : 0) : from.length > 1 ? Math.max(0, Math.min(...from.map((p) => depth.get(p)!)) - 1) : 0);
    const ready: string[] = [];
    for (const to of next.get(step) ?? []) {
      if (placed.has(to)) continue;
      const left = waiting.get(to)! - 1;
      waiting.set(to, left);
      if (left === 0) ready.push(to);
    }
    // The most travelled branch on top of the stack: it is drawn first.
    stack.push(...ready.reverse());
  }
  return {
    flowId,
    flowVersion: figures.flowVersion,
    since: window.since,
    until: window.until,
    started: figures.started,
    completed: figures.completed,
    aborted: figures.aborted,
    abandoned: sum(figures.abandonedAt),
    inProgress: sum(figures.inProgressAt),
    steps: order.map((step): FunnelStepView => {
      const from = previous.get(step);
      const parent = from?.size === 1 ? [...from][0]! : null;
      return {
        step,
        reached: reached[step] ?? 0,
        abandoned: figures.abandonedAt[step] ?? 0,
        inProgress: figures.inProgressAt[step] ?? 0,
        medianMs: figures.times[step]?.medianMs ?? null,
        p90Ms: figures.times[step]?.p90Ms ?? null,
        refused: figures.refused[step] ?? 0,
        refusedFields: sortedCounts(figures.refusedFields[step] ?? {}),
        next: [...figures.forward].filter((move) => move.from === step).sort(byCount),
        branchOf: parent !== null && branching(parent) ? parent : null,
        depth: depth.get(step)!,
      };
    }),
    backMoves: [...figures.back].sort(byCount),
  };
}

/** `counts` with its keys in order, so equal figures compare and print alike. */
function sortedCounts(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
