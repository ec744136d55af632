import { type InputHTMLAttributes, type ReactNode, useEffect, useRef } from 'react';
import { useProvided } from './context.ts';
import { useMessages, useStepMessage } from './messages.ts';

/**
 * Reads a form into a plain object: repeated names become arrays, dotted names (`address.city`) nest,
 * a chosen file stays a `File` and a file input with none chosen is left out.
 */
export function formValues(form: HTMLFormElement): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [name, value] of new FormData(form)) {
    if (typeof value !== 'string' && !value.name && !value.size) continue;
    const path = name.split('.');
    const last = path.pop()!;
    let target = values;
    for (const key of path) {
      target[key] ??= {};
      target = target[key] as Record<string, unknown>;
    }
    target[last] = last in target ? [target[last], value].flat() : value;
  }
  return values;
}

/** What a draft keeps of the files in `value` (drafts are stored as JSON): each file's `name`, `size` and `type`, not its content. */
const draftOf = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value, (_, item) => (item instanceof Blob ? { name: (item as File).name, size: item.size, type: item.type } : item)) ?? 'null');

/** The value at a dotted `name` (`address.city`) in a draft or values object. */
export const valueAt = (value: unknown, name: string): unknown =>
  name.split('.').reduce<unknown>((at, key) => (at && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined), value);

/**
 * Props that wire one input to the current step: its id, name, the value last
 * entered (draft), and the field error, linked by `aria-describedby`.
 * Use it for custom inputs, or with react-hook-form's `register` (see the docs).
 * @example
 * const { input, error } = useField('email');
 * return <><input type="email" {...input} />{error && <p {...error.props}>{error.text}</p>}</>;
 */
export function useField(name: string) {
  const { step, errors } = useProvided();
  const id = `wf-${step?.id}-${name.replace(/\./g, '-')}`;
  const messages = errors[name];
  const draft = valueAt(step?.draft, name);
  return {
    id,
    input: {
      id,
      name,
      defaultValue: draft == null ? undefined : String(draft),
      'aria-invalid': messages && true,
      'aria-describedby': messages && `${id}-error`,
    },
    error: messages ? { text: messages.join(' '), props: { id: `${id}-error`, role: 'alert', className: 'wayflow-error' } } : null,
  };
}

/**
 * A labelled input wired to the current step (draft, error, accessibility).
 * @example
 * <Field name="email" label="Email" type="email" autoComplete="email" />
 */
export function Field({ name, label, ...rest }: { name: string; label: ReactNode } & InputHTMLAttributes<HTMLInputElement>) {
  const { id, input, error } = useField(name);
  return (
    <div className="wayflow-field">
      <label htmlFor={id}>{label}</label>
      <input {...input} {...rest} />
      {error && <p {...error.props}>{error.text}</p>}
    </div>
  );
}

/**
 * The form of a step: submits the inputs (read by `formValues`, or your `toInput`)
 * to the task, keeps a draft while the user types, shows the step's message
 * (in the user's words, see `useStepMessage`), and offers "Back" and
 * the primary button (`submitLabel`, by default the `continue` message).
 * @example
 * <StepForm><Field name="email" label="Email" type="email" /></StepForm>
 */
export function StepForm({
  children,
  submitLabel,
  toInput = (values) => values,
  draftDelayMs = 400,
}: {
  children?: ReactNode;
  submitLabel?: ReactNode;
  toInput?: (values: Record<string, unknown>) => unknown;
  draftDelayMs?: number;
}) {
  const { pending, canGoBack, back, submit, saveDraft } = useProvided();
  const m = useMessages();
  const text = useStepMessage();
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  return (
    <form
      noValidate
      aria-busy={pending}
      onSubmit={(event) => {
        event.preventDefault();
        clearTimeout(timer.current);
        submit(toInput(formValues(event.currentTarget)));
      }}
      onChange={(event) => {
        const form = event.currentTarget;
        clearTimeout(timer.current);
        timer.current = setTimeout(() => saveDraft(draftOf(toInput(formValues(form)))), draftDelayMs);
      }}
    >
      {text && (
        <div role="alert" className="wayflow-message">
          {text}
        </div>
      )}
      {children}
      <div className="wayflow-actions">
        {canGoBack && (
          <button type="button" onClick={back} disabled={pending}>
            {m.back}
          </button>
        )}
        <button type="submit" disabled={pending}>
          {submitLabel ?? m.continue}
        </button>
      </div>
    </form>
  );
}
