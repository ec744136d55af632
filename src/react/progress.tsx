import { useProvided } from './context.ts';
import { useMessages } from './messages.ts';

/**
 * "Step k of n" and the list of steps along the current branch; the current one is marked `aria-current="step"`.
 * @example
 * <FlowProgress />
 */
export function FlowProgress() {
  const m = useMessages();
  const { current, total, steps } = useProvided().progress;
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
