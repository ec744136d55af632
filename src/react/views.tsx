import { StepForm } from './form.tsx';
import { useProvided } from './context.ts';
import { useErrorMessage, useMessages } from './messages.ts';

/** The default view of a choice step: one radio button per option the user may take. */
export function ChoiceView() {
  const { step, errors } = useProvided();
  const m = useMessages();
  const chosen = (step?.draft as { choice?: string } | undefined)?.choice;
  const error = errors.choice;
  return (
    <StepForm>
      <fieldset className="wayflow-choice" aria-describedby={error && 'wf-choice-error'}>
        <legend>{m.chooseOne}</legend>
        {step?.options.map((option) => (
          <label key={option.id}>
            <input type="radio" name="choice" value={option.id} defaultChecked={chosen === option.id} /> {option.title}
          </label>
        ))}
      </fieldset>
      {error && (
        <p id="wf-choice-error" role="alert" className="wayflow-error">
          {m.choiceMissing}
        </p>
      )}
    </StepForm>
  );
}

/** The default view of an automatic step that failed: that it failed (in the user's words), and a retry button. */
export function AutoStepView() {
  const { error, pending, retry } = useProvided();
  const m = useMessages();
  const text = useErrorMessage(error);
  return (
    <div className="wayflow-auto">
      {text && <p role="alert">{text}</p>}
      <button type="button" onClick={retry} disabled={pending}>
        {m.retry}
      </button>
    </div>
  );
}
