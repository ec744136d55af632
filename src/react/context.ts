import { createContext, useContext } from 'react';
import type { Task } from '../core/index.ts';
import type { OpenTaskOptions } from '../persist/index.ts';
import type { TaskBinding } from './hooks.ts';

/** What `WayflowProvider` hands down: how tasks are opened (store, binder, clock, user, URL parameter…). */
export type WayflowConfig = Partial<Omit<OpenTaskOptions, 'data'>>;

export const ConfigContext = createContext<WayflowConfig | null>(null);
/** The binding of the nearest `TaskProvider`'s task: its one subscription, shared by the components below. */
export const TaskContext = createContext<TaskBinding | undefined>(undefined);

/** What a component outside any task is told. */
export const noTask = () => new Error('wayflow: this component needs a task; render it inside <FlowView> or <TaskProvider task={…}>, or pass the task.');

/** The task given, or else the one of the nearest `TaskProvider` or `FlowView`, without subscribing to it; throws a clear error when there is neither. */
export function useCurrentTask(given?: Task | null): Task {
  const provided = useContext(TaskContext);
  const task = given ?? provided?.task;
  if (!task) throw noTask();
  return task;
}
