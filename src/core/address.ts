import { compile } from './compile.ts';
import type { Flow } from './definition.ts';
import { isStep } from './model.ts';
import type { TaskStatus } from './task.ts';

/**
 * Addresses of a flow's steps and how an address bar follows a task, without a router:
 * the pure part of `wayflow/router`'s `FlowRoutes` (which only reads the address, runs
 * what `addressMove` decides and remembers its `AddressMemory`). Not exported by the
 * `wayflow` entry: a router adapter imports it.
 */

/** The step (a node waiting for the user) whose URL below the flow's mount point is `path`, or undefined. */
export function stepAtUrl(flow: Flow, path: string): string | undefined {
  for (const info of compile(flow).model.nodes.values()) if (info.url === path && isStep(info.node)) return info.id;
  return undefined;
}

/** The URL of `step` below the flow's mount point (`/pay/card`), or undefined for an id the flow does not have. */
export function urlOfStep(flow: Flow, step: string): string | undefined {
  return compile(flow).model.nodes.get(step)?.url;
}

/** One history entry to write: `replace` overwrites the shown one, else it is pushed. */
export interface AddressPage {
  url: string;
  replace: boolean;
}

/**
 * What the address bar does next: nothing; `show` the task's position (the pages written in
 * order); `goto` a visited step the user navigated to (on refusal, `stayAt` the task's step);
 * or `leave` the finished flow (one history entry back).
 */
export type AddressMove = { type: 'none' } | { type: 'show'; pages: AddressPage[] } | { type: 'goto'; step: string } | { type: 'leave' };

/** What the adapter keeps between decisions (start from `addressMemory`). */
export interface AddressMemory {
  /** The step the address last agreed with (null before any, and once the task finished). */
  readonly synced: string | null;
  /** The key of the entry a `show` navigated away from while the router still shows it (it renders in a transition), else null. */
  readonly left: string | null;
  /** The step path the history is really at after that `show`. */
  readonly entry: string;
  /** The end page of a finished task was shown: Back from there leaves the flow. */
  readonly ended: boolean;
  /** Steps the task was drawn at after `synced` while the address did not name it yet: each gets its history entry once it does. */
  readonly drawn: readonly string[];
}

/**
 * The memory before the first decision, when the task was first drawn at `step`: a task that
 * moves on before the address shows it (the router renders in a transition) still leaves
 * that step its own history entry.
 */
export function addressMemory(step: string | null): AddressMemory {
  return { synced: step, left: null, entry: '', ended: false, drawn: [] };
}

/** What a decision looks at: the task's picture and the address shown. */
export interface AddressView {
  flow: Flow;
  /** The address shown names this task (until the router renders the id the task's opening wrote, it does not). */
  addressed: boolean;
  /** The task's current step, or null once it finished. */
  step: { id: string; url: string } | null;
  status: TaskStatus;
  visited: readonly string[];
  ahead: readonly string[];
  /** The step path shown below the mount point (`/pay`), `''` for the mount point itself. */
  here: string;
  /** The key of the history entry shown. */
  key: string;
  /** The entry was reached with the browser's Back or Forward. */
  popped: boolean;
}

/** A move and the memory to keep after making it. */
export type AddressDecision = [move: AddressMove, memory: AddressMemory];

/** Shows `pages` from the entry keyed `key`, remembering where the history really is until the router renders it. */
function show(memory: AddressMemory, key: string, pages: AddressPage[]): AddressDecision {
  return [{ type: 'show', pages }, { ...memory, left: key, entry: pages.at(-1)!.url, drawn: [] }];
}

/** Puts the task's step `url` in place of the entry keyed `key` (a refused step link, an unreachable address). */
export function stayAt(memory: AddressMemory, key: string, url: string): AddressDecision {
  return show(memory, key, [{ url, replace: true }]);
}

/**
 * Decides how the address follows the task. The task moved: its step is shown (pushed, so
 * Back returns; the flow's own path first becomes the page of the step shown there). The
 * address moved (Back, Forward, a step link): a visited step is gone to, anything else is
 * replaced by the task's step, and Back from a finished flow's end page leaves it. While
 * the router still renders the entry a `show` left, the history's real entry is compared.
 * @example
 * const [move, memory] = addressMove(addressMemory('name'), { flow, addressed: true, step, status, visited, ahead, here: '', key: 'default', popped: false });
 */
export function addressMove(memory: AddressMemory, view: AddressView): AddressDecision {
  const { flow, step, here, key } = view;
  const { synced, drawn } = memory;
  const taskStep = step?.id ?? null;
  if (!view.addressed) return [{ type: 'none' }, taskStep === null || taskStep === (drawn.at(-1) ?? synced) ? memory : { ...memory, drawn: [...drawn, taskStep] }];
  const lagging = memory.left === key;
  const current: AddressMemory = lagging ? memory : { ...memory, left: null };
  const at = lagging ? memory.entry : here;
  const taskUrl = step?.url ?? '';
  if (at === taskUrl) return [{ type: 'none' }, { ...current, synced: taskStep, ended: !step, drawn: [] }];
  if (taskStep !== synced) {
    // Every step drawn gets its entry, so Back returns to each; the flow's own path is never a step page:
    // it becomes the page of the first (the step shown there, else the next).
    const steps = [...(at === '' && synced !== null ? [synced] : []), ...drawn, taskStep];
    const pages = steps.filter((s, i) => s !== steps[i + 1]).map((s, i) => ({ url: s === taskStep ? taskUrl : urlOfStep(flow, s!)!, replace: at === '' && !i }));
    return show({ ...current, synced: taskStep }, key, pages);
  }
  if (lagging) return [{ type: 'none' }, current];
  if (current.ended && view.popped) return [{ type: 'leave' }, current];
  const target = stepAtUrl(flow, here);
  const reachable = target !== undefined && view.status === 'active' && (view.visited.includes(target) || view.ahead.includes(target));
  return reachable ? [{ type: 'goto', step: target }, current] : stayAt(current, key, taskUrl);
}
