import { createContext, useContext } from 'react';
import type { Flow, Task } from '../core/index.ts';
import type { OpenTaskOptions } from '../persist/index.ts';
import type { TaskBinding } from './hooks.ts';

/** What `WayflowProvider` hands down: how tasks are opened (store, binder, clock, user, URL parameter…). */
export type WayflowConfig = Partial<Omit<OpenTaskOptions, 'data'>>;

export const ConfigContext = createContext<WayflowConfig | null>(null);
/** The binding of the nearest `TaskProvider`'s task: its one subscription, shared by the components below. */
export const TaskContext = createContext<TaskBinding | undefined>(undefined);

/** `found`, or else the error a component outside any task is told. */
export function needTask<T>(found: T | null | undefined): T {
  if (!found) throw new Error('wayflow: this component needs a task; render it inside <FlowView> or <TaskProvider task={…}>, or pass the task.');
  return found;
}

/**
 * The binding of the nearest `TaskProvider` or `FlowView`, as this package's own components and hooks read it
 * (`useTask()` with no task): a context read, without a subscription of their own nor its effects on every mount.
 */
export function useProvided<F extends Flow = Flow>(): TaskBinding<F> {
  return needTask(useContext(TaskContext)) as TaskBinding<F>;
}

/** The task given, or else the one of the nearest `TaskProvider` or `FlowView`, without subscribing to it; throws a clear error when there is neither. */
export function useCurrentTask(given?: Task | null): Task {
  const provided = useContext(TaskContext);
  return needTask(given ?? provided?.task);
}
