import type { ReactNode } from 'react';
import type { useField } from '../form.tsx';

/**
 * The frame of one field: its label (after the control with `labelAfter`, as for a checkbox),
 * the control, and the field error, which the control names in `aria-describedby`.
 */
export function Labelled({
  id,
  label,
  error,
  labelAfter,
  className = 'wayflow-field',
  children,
}: { id: string; label: ReactNode; error: ReturnType<typeof useField>['error']; labelAfter?: boolean; className?: string; children: ReactNode }) {
  const text = <label htmlFor={id}>{label}</label>;
  return (
    <div className={className}>
      {!labelAfter && text}
      {children}
      {labelAfter && text}
      {error && <p {...error.props}>{error.text}</p>}
    </div>
  );
}

/** One option of a `Select` or a `RadioGroup`: the value submitted and the text shown. */
export interface FieldOption {
  value: string;
  label: ReactNode;
}
