import { WayflowError } from './errors.ts';

const TASK_ID = /^[A-Za-z0-9_-]{22}$/;

/** A new task id: 128 random bits, URL-safe base64 (22 characters). */
export function newTaskId(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))))
    .slice(0, 22)
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
}

/** True when `value` has the shape of a task id made by `newTaskId`. */
export function isTaskId(value: unknown): value is string {
  return typeof value === 'string' && TASK_ID.test(value);
}

/** Returns `value` if it is a well-formed task id; otherwise throws `InvalidTaskIdError` (it is never looked up). */
export function parseTaskId(value: unknown): string {
  if (isTaskId(value)) return value;
  throw new InvalidTaskIdError(value);
}

/** A task id from a URL or a request is malformed. */
export class InvalidTaskIdError extends WayflowError {
  override readonly name: string = 'InvalidTaskIdError';
  constructor(value: unknown) {
    super(
      'invalid-task-id',
      `"${String(value).slice(0, 40)}" is not a task id (22 URL-safe base64 characters). Check the link, or start a new task.`,
    );
  }
}
