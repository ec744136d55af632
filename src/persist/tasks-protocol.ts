import type { TaskSummary } from '../core/index.ts';

/**
 * The body of each successful answer of the tasks API that `remoteStore` reads, by its
 * operation. The task of `read` is checked with `parseTaskRecord` before use.
 */
export interface TasksResponses {
  read: { task: unknown };
  list: { tasks: TaskSummary[] };
  sweep: { swept: number };
}
