import { createContext, useContext } from 'react';
import type { Task } from '../core/index.ts';
import type { OpenTaskOptions } from '../persist/index.ts';

/** What `WayflowProvider` hands down: how tasks are opened (store, binder, clock, user, URL parameter…). */
export type WayflowConfig = Partial<Omit<OpenTaskOptions, 'data'>>;

export const ConfigContext = createContext<WayflowConfig | null>(null);
export const TaskContext = createContext<Task | null>(null);

/** The task of the nearest `TaskProvider` or `FlowView`; throws a clear error outside one. */
export function useCurrentTask(): Task {
  const task = useContext(TaskContext);
  if (!task) throw new Error('wayflow: this component needs a task; render it inside <FlowView> or <TaskProvider task={…}>.');
  return task;
}
