import type { ReactNode, SelectHTMLAttributes } from 'react';
import { useField } from '../form.tsx';
import { type FieldOption, Labelled } from './labelled.tsx';

/**
 * A labelled `<select>` wired to the current step (draft, error, accessibility). `placeholder`
 * adds a first option with the value `''`, submitted as an empty string when left chosen.
 * @example
 * <Select name="country" label="Country" placeholder="Choose…" options={[{ value: 'NL', label: 'Netherlands' }]} />
 */
export function Select({
  name,
  label,
  options,
  placeholder,
  ...rest
}: { name: string; label: ReactNode; options: readonly FieldOption[]; placeholder?: ReactNode } & SelectHTMLAttributes<HTMLSelectElement>) {
  const { id, input, error } = useField(name);
  return (
    <Labelled id={id} label={label} error={error}>
      <select {...input} defaultValue={input.defaultValue ?? ''} {...rest}>
        {placeholder !== undefined && <option value="">{placeholder}</option>}
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </Labelled>
  );
}
