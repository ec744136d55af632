import { type Progress, progressOf } from '../core/graph.ts';
import { type TaskBinding, useTask } from './hooks.ts';
import { useMessages } from './messages.ts';

const progresses = new WeakMap<TaskBinding, Progress>();

/** `progressOf` the binding's state, drawn once for the components sharing the binding (the progress and the outlet's announcement). */
export function progressOfBinding(task: TaskBinding): Progress {
  let progress = progresses.get(task);
  if (!progress) progresses.set(task, (progress = progressOf(task.task.flow, task)));
  return progress;
}

/**
 * "Step k of n" and the list of steps along the current branch; the current one is marked `aria-current="step"`.
 * @example
 * <FlowProgress />
 */
export function FlowProgress() {
  const task = useTask();
  const m = useMessages();
  const { current, total, steps } = progressOfBinding(task);
  return (
    <nav aria-label={m.progress} className="wayflow-progress">
      <p>{m.stepOf(current, total)}</p>
      <ol>
        {steps.map((s) => (
          <li key={s.id} data-state={s.state} aria-current={s.state === 'current' ? 'step' : undefined}>
            {s.title}
          </li>
        ))}
      </ol>
    </nav>
  );
}
