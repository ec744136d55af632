import { useTask } from './hooks.ts';
import { StepForm } from './form.tsx';

/** The default view of a choice step: one radio button per option the user may take. */
export function ChoiceView() {
  const { step, errors } = useTask();
  const chosen = (step?.draft as { choice?: string } | undefined)?.choice;
  const error = errors.choice;
  return (
    <StepForm>
      <fieldset className="wayflow-choice" aria-describedby={error ? 'wf-choice-error' : undefined}>
        <legend>Choose one</legend>
        {step?.options.map((option) => (
          <label key={option.id}>
            <input type="radio" name="choice" value={option.id} defaultChecked={chosen === option.id} /> {option.title}
          </label>
        ))}
      </fieldset>
      {error && (
        <p id="wf-choice-error" role="alert" className="wayflow-error">
          {error.join(' ')}
        </p>
      )}
    </StepForm>
  );
}

/** The default view of an automatic step that failed: what went wrong, and a retry button. */
export function AutoStepView() {
  const { error, pending, retry } = useTask();
  return (
    <div className="wayflow-auto">
      {error && <p role="alert">{error.message}</p>}
      <button type="button" onClick={retry} disabled={pending}>
        Try again
      </button>
    </div>
  );
}
