import type { ReactNode, TextareaHTMLAttributes } from 'react';
import { useField } from '../form.tsx';
import { Labelled } from './labelled.tsx';

/**
 * A labelled `<textarea>` wired to the current step (draft, error, accessibility).
 * @example
 * <TextArea name="notes" label="Anything we should know?" rows={4} />
 */
export function TextArea({ name, label, ...rest }: { name: string; label: ReactNode } & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const { id, input, error } = useField(name);
  return (
    <Labelled id={id} label={label} error={error}>
      <textarea {...input} {...rest} />
    </Labelled>
  );
}
