import { compile } from './compile.ts';
import type { Flow } from './definition.ts';
import { COMPLETED, finishDestination, isStep, landingOf } from './model.ts';
import { failingPrecondition } from './preconditions.ts';
import type { TaskState } from './task.ts';

/** One step of a progress indicator. */
export interface ProgressStep {
  id: string;
  title: string;
  state: 'done' | 'current' | 'upcoming';
}

/** Where a task stands along its current branch: step `current` of `total`. */
export interface Progress {
  /** 1-based position of the current step; equals `total` when the task is completed. */
  current: number;
  total: number;
  steps: ProgressStep[];
}

/**
 * Progress of a task along its current branch: the steps visited so far, then
 * the steps the flow leads to if every step completes (at a choice, the option
 * chosen last time, or else the first one offered). Nested scaffolds count
 * their own steps, so the figure stays right as branches open.
 * @example
 * const { current, total } = progressOf(checkoutFlow, task.state); // e.g. 3 of 6
 */
export function progressOf(flow: Flow, state: TaskState): Progress {
  const { model } = compile(flow);
  const title = (id: string) => model.nodes.get(id)?.node.title ?? id;
  const passed = (id: string): ProgressStep => ({ id, title: title(id), state: 'done' });
  const done = state.visited.slice(0, -1).map(passed);
  if (!state.step) {
    const steps = state.visited.map(passed);
    return { current: steps.length, total: steps.length, steps };
  }
  const steps = [...done, { id: state.step.id, title: state.step.title, state: 'current' as const }];
  const seen = new Set(state.visited);
  let at = state.step.id;
  for (;;) {
    const info = model.nodes.get(at)!;
    const node = info.node;
    let next: string;
    if (node.kind === 'scaffold') {
      const draft = (at === state.step.id ? state.step.draft : undefined) as { choice?: string } | undefined;
      const options = node.children.filter((c) => !failingPrecondition(c, state));
      next = landingOf((options.find((c) => c.id === draft?.choice) ?? options[0] ?? node.children[0]!).id, model.nodes);
    } else {
      let destination = finishDestination(info);
      while (destination.endsWith('.$returned')) destination = finishDestination(model.nodes.get(destination.slice(0, -'.$returned'.length))!);
      next = landingOf(destination, model.nodes);
    }
    if (next === COMPLETED || seen.has(next) || !model.nodes.has(next)) break;
    seen.add(next);
    if (isStep(model.nodes.get(next)!.node)) steps.push({ id: next, title: title(next), state: 'upcoming' });
    at = next;
  }
  return { current: done.length + 1, total: steps.length, steps };
}
