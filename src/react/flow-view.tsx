import type { ReactNode } from 'react';
import type { Flow, FlowData, WayflowError } from '../core/index.ts';
import type { WayflowConfig } from './context.ts';
import { useOpenTask } from './hooks.ts';
import { useErrorMessage, useMessages } from './messages.ts';
import { type StepViews, FlowOutlet } from './outlet.tsx';
import { FlowProgress } from './progress.tsx';
import { TaskProvider } from './provider.tsx';

/**
 * Opens the task of `flow` named by the URL (or starts one) and renders it:
 * progress and the current step, or what went wrong (expired, not found, a
 * bad link, in the user's words) with a "Start over" button.
 * @example
 * <WayflowProvider store={indexedDbStore()}><FlowView flow={checkout} views={views} /></WayflowProvider>
 */
export function FlowView<F extends Flow>({
  flow,
  views,
  data,
  completed,
  aborted,
  children,
  options,
}: {
  flow: F;
  /** Views by step id of `flow` (a misspelt id is a type error); their `task.data` is typed by the flow. */
  views?: StepViews<F>;
  data?: FlowData<F>;
  completed?: ReactNode;
  aborted?: ReactNode;
  /** Replaces the default progress + outlet layout. */
  children?: ReactNode;
  options?: WayflowConfig;
}) {
  const opened = useOpenTask(flow, { ...options, data });
  const m = useMessages();
  const failure = useErrorMessage((opened as { error?: WayflowError }).error);
  if (opened.status === 'opening') return <p role="status">{m.loading}</p>;
  if (opened.status === 'ready') {
    return (
      <TaskProvider task={opened.task}>
        {children ?? (
          <>
            <FlowProgress />
            <FlowOutlet<F> views={views} completed={completed} aborted={aborted} />
          </>
        )}
      </TaskProvider>
    );
  }
  const [title, text] =
    opened.status === 'expired'
      ? [m.expired, m.expiredText]
      : opened.status === 'not-found'
        ? [m.notFound, m.notFoundText]
        : [opened.error.code === 'invalid-task-id' ? m.badLink : m.cannotOpen, failure];
  return (
    <section className="wayflow-problem">
      <h1>{title}</h1>
      <p role="alert">{text}</p>
      <button type="button" onClick={opened.restart}>
        {m.startOver}
      </button>
    </section>
  );
}
