import type { ReactNode } from 'react';
import type { Task } from '../core/index.ts';
import { ConfigContext, TaskContext, type WayflowConfig } from './context.ts';

/**
 * Configures how flows below it open their tasks: the store, the binder, the
 * clock, the signed-in user, the URL parameter and duplicate-tab handling.
 * @example
 * <WayflowProvider store={indexedDbStore()} user={currentUser}>
 *   <FlowView flow={checkout} views={views} />
 * </WayflowProvider>
 */
export function WayflowProvider({ children, ...config }: WayflowConfig & { children: ReactNode }) {
  return <ConfigContext.Provider value={config}>{children}</ConfigContext.Provider>;
}

/**
 * Makes an already opened task available to the hooks and components below.
 * @example
 * <TaskProvider task={task}><FlowOutlet views={views} /></TaskProvider>
 */
export function TaskProvider({ task, children }: { task: Task; children: ReactNode }) {
  return <TaskContext.Provider value={task}>{children}</TaskContext.Provider>;
}
