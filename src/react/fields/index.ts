export { Checkbox } from './checkbox.tsx';
export { FileField } from './file-field.tsx';
export type { FileDraft } from './file-field.tsx';
export type { FieldOption } from './labelled.tsx';
export { RadioGroup } from './radio-group.tsx';
export { Select } from './select.tsx';
export { TextArea } from './text-area.tsx';
