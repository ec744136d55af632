/**
 * The path of an XState state value (as a snapshot holds it and a task record stores it)
 * down its single active branch: the state keys, then the leaf (a string in any value
 * XState produced). `{ checkout: { pay: '$ready' } }` gives `['checkout', 'pay', '$ready']`.
 */
export function statePath(value: unknown, path: unknown[] = []): unknown[] {
  const entry = value && typeof value === 'object' ? Object.entries(value)[0] : undefined;
  return entry ? statePath(entry[1], [...path, entry[0]]) : [...path, value];
}
