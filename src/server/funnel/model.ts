import type { HistoryEntry } from '../../core/store.ts';
import type { FunnelMoveView, FunnelStepView, FunnelView } from '../../sync/protocol.ts';

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

const add = (counts: Record<string, number>, key: string, n = 1) => {
  counts[key] = (counts[key] ?? 0) + n;
};

/** Moves counted by `from` and `to`, as a list. */
function moveList(counts: Map<string, FunnelMoveView>): FunnelMoveView[] {
  return [...counts.values()];
}

/**
 * The model of the funnel arithmetic, over task records in memory: the figures `readFunnels` computes in SQL, per flow
 * version present in `tasks` created in `window`. The property test holds the two to the same results.
 */
export function funnelsOf(flowId: string, tasks: readonly FunnelTask[], window: FunnelWindow): FunnelView[] {
  const byVersion = new Map<number, FunnelFigures>();
  const durations = new Map<number, Record<string, number[]>>();
  const forward = new Map<number, Map<string, FunnelMoveView>>();
  const back = new Map<number, Map<string, FunnelMoveView>>();
  const countMove = (moves: Map<number, Map<string, FunnelMoveView>>, version: number, from: string, to: string) => {
    const perVersion = moves.get(version) ?? new Map<string, FunnelMoveView>();
    moves.set(version, perVersion);
    const key = `${from}\n${to}`;
    const move = perVersion.get(key) ?? { from, to, count: 0 };
    move.count++;
    perVersion.set(key, move);
  };
  for (const task of tasks) {
    if (task.createdAt < window.since || task.createdAt >= window.until) continue;
    const version = task.flowVersion;
    const figures = byVersion.get(version) ?? emptyFigures(version);
    byVersion.set(version, figures);
    const times = durations.get(version) ?? {};
    durations.set(version, times);
    const { history } = task;
    figures.started++;
    const completed = history.some((entry) => entry.to === '$completed');
    const aborted = !completed && history.some((entry) => entry.to === '$aborted');
    const last = history.at(-1)?.to;
    if (completed) figures.completed++;
    else if (aborted) figures.aborted++;
    else if (last !== undefined) add(task.ended ? figures.abandonedAt : figures.inProgressAt, last);
    for (const step of new Set(history.map((entry) => entry.to).filter(isStep))) add(figures.reached, step);
    let entered: HistoryEntry | null = null;
    for (const entry of history) {
      if (entry.event === 'start') add(figures.starts, entry.to);
      if (entry.from !== null && entry.from !== entry.to && (FORWARD_EVENTS as readonly string[]).includes(entry.event)) countMove(forward, version, entry.from, entry.to);
      if (entry.from !== null && (BACK_EVENTS as readonly string[]).includes(entry.event)) countMove(back, version, entry.from, entry.to);
      if (entry.event === 'refused' && entry.from !== null) {
        add(figures.refused, entry.from);
        const fields = figures.refusedFields[entry.from] ?? {};
        figures.refusedFields[entry.from] = fields;
        for (const field of entry.fields ?? []) add(fields, field);
      }
      if (entry.from === entry.to) continue;
      // A move: the step entered before it was left now.
      if (entered && isStep(entered.to)) {
        const spent = times[entered.to] ?? [];
        spent.push(entry.at - entered.at);
        times[entered.to] = spent;
      }
      entered = entry;
    }
  }
  return [...byVersion.values()].map((figures) => {
    const version = figures.flowVersion;
    for (const [step, spent] of Object.entries(durations.get(version) ?? {})) {
      const sorted = spent.sort((a, b) => a - b);
      figures.times[step] = { medianMs: percentileDisc(sorted, 0.5), p90Ms: percentileDisc(sorted, 0.9) };
    }
    figures.forward = moveList(forward.get(version) ?? new Map());
    figures.back = moveList(back.get(version) ?? new Map());
    return shapeFunnel(flowId, figures, window);
  }).sort((a, b) => b.flowVersion - a.flowVersion);
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
