import { fireEvent } from '@testing-library/react';

const implOf = (o: object) => (o as Record<symbol, unknown[]>)[Object.getOwnPropertySymbols(o).find((s) => s.description === 'impl')!]!;

/**
 * What a person choosing files in a file input does: the input's `files` (which `FormData`
 * reads) become `files`, and it fires `change`. jsdom has no DataTransfer to build a FileList
 * with, so this fills jsdom's own list.
 */
export function chooseFiles(input: HTMLElement, files: File[]) {
  const list = implOf((input as HTMLInputElement).files!);
  list.splice(0, list.length, ...files.map(implOf));
  fireEvent.change(input);
}
