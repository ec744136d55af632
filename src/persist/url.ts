import { parseTaskId } from '../core/shared.ts';

/** The default name of the URL search parameter that holds the task id. */
export const DEFAULT_TASK_PARAM = '_id';

/** Where the current address is read and replaced; `browserLocation` in a page, anything in tests. */
export interface TaskLocation {
  /** The current absolute URL. */
  read(): string;
  /** Replaces the current URL without a navigation or a new history entry. */
  replace(href: string): void;
}

/** The page's address: `location.href`, replaced with `history.replaceState` (history state kept). */
export const browserLocation: TaskLocation = {
  read: () => globalThis.location.href,
  replace: (href) => globalThis.history.replaceState(globalThis.history.state, '', href),
};

/**
 * The task id in `url`'s search parameter `param` (default `_id`), or null when there is none.
 * A present but malformed id throws `InvalidTaskIdError`: it is never looked up.
 * @example
 * readTaskId('https://shop.test/checkout?_id=q3Xl9Ykz0m0S8yGFvYpG0w'); // 'q3Xl9Ykz0m0S8yGFvYpG0w'
 */
export function readTaskId(url: string | URL, param: string = DEFAULT_TASK_PARAM): string | null {
  const value = new URL(url).searchParams.get(param);
  return value === null ? null : parseTaskId(value);
}

/**
 * `url` with its task id parameter set to `id` (or removed when `id` is null); other parameters and the hash are kept.
 * @example
 * withTaskId('https://shop.test/checkout?step=2', id).href; // 'https://shop.test/checkout?step=2&_id=…'
 */
export function withTaskId(url: string | URL, id: string | null, param: string = DEFAULT_TASK_PARAM): URL {
  const next = new URL(url);
  if (id === null) next.searchParams.delete(param);
  else next.searchParams.set(param, parseTaskId(id));
  return next;
}

/** A `TaskLocation` over a plain string, for tests and server-side code. */
export function memoryLocation(initial: string): TaskLocation & { href: string } {
  const location = {
    href: new URL(initial).href,
    read: () => location.href,
    replace: (href: string) => {
      location.href = new URL(href).href;
    },
  };
  return location;
}
