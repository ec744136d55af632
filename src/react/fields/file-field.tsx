import { type InputHTMLAttributes, type ReactNode, useState } from 'react';
import { useField, valueAt } from '../form.tsx';
import { useTask } from '../hooks.ts';
import { useMessages } from '../messages.ts';
import { Labelled } from './labelled.tsx';

/** What a step's draft keeps of a chosen file: its name, size and type, never its content. */
export interface FileDraft {
  name: string;
  size: number;
  type: string;
}

const namesOf = (kept: unknown): string =>
  [kept]
    .flat()
    .map((file) => (file as FileDraft | null)?.name)
    .filter(Boolean)
    .join(', ');

/**
 * A labelled file input wired to the current step: the chosen file is submitted as a `File`
 * (several, with `multiple`, as an array), none chosen submits nothing. Drafts keep each
 * file's name, size and type (`FileDraft`), not its content, and a browser cannot put a file
 * back into an input: after a reload or a visit back the field says which file was chosen
 * (the `fileChosen` message) until the user chooses again.
 * @example
 * <FileField name="passport" label="A scan of your passport" accept="image/*,.pdf" />
 */
export function FileField({ name, label, onChange, ...rest }: { name: string; label: ReactNode } & Omit<InputHTMLAttributes<HTMLInputElement>, 'type'>) {
  const { id, input, error } = useField(name);
  const { step } = useTask();
  const m = useMessages();
  const [kept, setKept] = useState(() => namesOf(valueAt(step?.draft, name)));
  const { defaultValue: _drafted, ...props } = input;
  const described = [kept && `${id}-kept`, props['aria-describedby']].filter(Boolean).join(' ') || undefined;
  return (
    <Labelled id={id} label={label} error={error}>
      <input
        type="file"
        {...props}
        aria-describedby={described}
        onChange={(event) => {
          setKept('');
          onChange?.(event);
        }}
        {...rest}
      />
      {kept && (
        <p id={`${id}-kept`} className="wayflow-hint">
          {m.fileChosen(kept)}
        </p>
      )}
    </Labelled>
  );
}
