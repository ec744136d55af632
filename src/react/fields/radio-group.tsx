import type { FieldsetHTMLAttributes, ReactNode } from 'react';
import { useField } from '../form.tsx';
import type { FieldOption } from './labelled.tsx';

/**
 * A group of radio buttons wired to the current step: a fieldset named by its `legend`
 * (`label`), one labelled radio per option, the drafted option checked, and the field
 * error linked to the group by `aria-describedby`. Submits the chosen option's value, or nothing.
 * @example
 * <RadioGroup name="plan" label="Plan" options={[{ value: 'free', label: 'Free' }, { value: 'pro', label: 'Pro' }]} />
 */
export function RadioGroup({
  name,
  label,
  options,
  ...rest
}: { name: string; label: ReactNode; options: readonly FieldOption[] } & FieldsetHTMLAttributes<HTMLFieldSetElement>) {
  const { id, input, error } = useField(name);
  return (
    <fieldset
      id={id}
      className="wayflow-field wayflow-radio-group"
      aria-invalid={input['aria-invalid']}
      aria-describedby={input['aria-describedby']}
      {...rest}
    >
      <legend>{label}</legend>
      {options.map((option) => (
        <label key={option.value}>
          <input type="radio" id={`${id}-${option.value}`} name={name} value={option.value} defaultChecked={input.defaultValue === option.value} /> {option.label}
        </label>
      ))}
      {error && <p {...error.props}>{error.text}</p>}
    </fieldset>
  );
}
