import { type ComponentType, type ReactNode, useEffect, useId, useRef } from 'react';
import type { Flow, StepId, StepView } from '../core/index.ts';
import { StepForm } from './form.tsx';
import { useProvided } from './context.ts';
import type { TaskBinding } from './hooks.ts';
import { useMessages } from './messages.ts';
import { AutoStepView, ChoiceView } from './views.tsx';

/** What a step's view receives; `F` (the flow) types `task.data`, e.g. `StepViewProps<typeof signup>`. */
export interface StepViewProps<F extends Flow = Flow> {
  step: StepView;
  task: TaskBinding<F>;
}

/**
 * Views by step id, keyed by the step ids of flow `F` (a misspelt id is a type error).
 * Choice and failed automatic steps have defaults; a step without a view gets a bare form.
 */
export type StepViews<F extends Flow = Flow> = { readonly [K in StepId<F>]?: ComponentType<StepViewProps<F>> };

const hidden = { position: 'absolute', width: 1, height: 1, overflow: 'hidden', clip: 'rect(0 0 0 0)', whiteSpace: 'nowrap' } as const;

/**
 * Renders the current step: exactly one `h1` with the step's title, then its view
 * (or, once the task ends, the `completed` / `aborted` content, which should hold an `h1`).
 * When the step changes focus moves to that heading (in the frame that draws it; without the focus ring,
 * `focusVisible: false`: the heading is no control, the next Tab rings the step's first field) and a polite live region
 * announces "Step k of n: title"; an automatic step that runs again (a waiting
 * step repeated by SUSPEND_AND_REPEAT) keeps its view mounted and focus where it is.
 * The heading stays in the page from step to step (only the view is mounted anew): a focused
 * element taken out of the page costs the browser a style pass in the middle of the step's commit.
 * @example
 * <FlowOutlet views={{ login: LoginView }} completed={<h1>Thank you!</h1>} />
 */
export function FlowOutlet<F extends Flow = Flow>({ views = {}, completed, aborted }: { views?: StepViews<F>; completed?: ReactNode; aborted?: ReactNode }) {
  const task = useProvided<F>();
  const m = useMessages();
  const { step, status } = task;
  const headingId = useId();
  const region = useRef<HTMLElement>(null);
  // A new visit of a form starts with fresh inputs; an automatic step running again (a waiting step) stays as it is.
  const key = step ? (step.kind === 'auto' ? step.id : `${step.id}:${step.visit}`) : status;
  const shown = useRef(key);
  useEffect(() => {
    if (shown.current === key) return;
    shown.current = key;
    const h1 = region.current?.querySelector('h1');
    // The heading stays from step to step: when it still has focus there is nothing to move (nor a frame callback to ask for).
    // Focusing lays the page out: done in the frame that draws the step (a timer where there are no frames), not before the step is in the page.
    if (h1 && !h1.matches(':focus'))
      (globalThis.requestAnimationFrame ?? setTimeout)(() => {
        if (!h1.hasAttribute('tabindex')) h1.tabIndex = -1;
        h1.focus({ focusVisible: false });
      });
  }, [key]);
  const ended = status === 'completed';
  const said = (ended ? m.done : m.stopped)(task.task.flow.title);
  const View = step && ((views as Partial<Record<string, ComponentType<StepViewProps<F>>>>)[step.id] ?? (step.kind === 'choice' ? ChoiceView : step.kind === 'auto' ? AutoStepView : StepForm));
  return (
    <>
      <p role="status" aria-live="polite" style={hidden}>
        {step ? m.announce(task.progress.current, task.progress.total, step.title) : said}
      </p>
      {step && View ? (
        <section ref={region} aria-labelledby={headingId} className="wayflow-step">
          <h1 id={headingId} tabIndex={-1}>
            {step.title}
          </h1>
          <View key={key} step={step} task={task} />
        </section>
      ) : (
        // Its own section (keyed): reusing the step's focused heading would take its tabindex away, which makes the browser lay the page out in the middle of the commit.
        <section key="end" ref={region} className="wayflow-end">
          {(ended ? completed : aborted) ?? <h1>{said}</h1>}
        </section>
      )}
    </>
  );
}
