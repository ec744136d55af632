import type { InputHTMLAttributes, ReactNode } from 'react';
import { useField } from '../form.tsx';
import { Labelled } from './labelled.tsx';

/**
 * A labelled checkbox wired to the current step (draft, error, accessibility). Checked, it
 * submits `value` (default `'true'`); unchecked, nothing: read it with `z.coerce.boolean().default(false)`.
 * @example
 * <Checkbox name="terms" label="I accept the terms" />
 */
export function Checkbox({ name, label, value = 'true', ...rest }: { name: string; label: ReactNode; value?: string } & Omit<InputHTMLAttributes<HTMLInputElement>, 'type'>) {
  const { id, input, error } = useField(name);
  const { defaultValue, ...props } = input;
  return (
    <Labelled id={id} label={label} error={error} labelAfter className="wayflow-field wayflow-checkbox">
      <input type="checkbox" {...props} value={value} defaultChecked={defaultValue === value} {...rest} />
    </Labelled>
  );
}
