import { progressOf } from '../core/graph.ts';
import { useTask } from './hooks.ts';

/**
 * "Step k of n" and the list of steps along the current branch; the current one is marked `aria-current="step"`.
 * @example
 * <FlowProgress />
 */
export function FlowProgress() {
  const task = useTask();
  const { current, total, steps } = progressOf(task.task.flow, task);
  return (
    <nav aria-label="Progress" className="wayflow-progress">
      <p>
        Step {current} of {total}
      </p>
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
