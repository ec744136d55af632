import { type ReactNode, useContext } from 'react';
import type { Task } from '../core/index.ts';
import { ConfigContext, TaskContext, type WayflowConfig } from './context.ts';
import { useBinding } from './hooks.ts';
import { MessagesContext, type WayflowMessages } from './messages.ts';

/**
 * Configures how flows below it open their tasks (the store, the binder, the
 * clock, the signed-in user, the URL parameter and duplicate-tab handling) and
 * the words wayflow's components use (`messages`: any of `defaultMessages`).
 * @example
 * <WayflowProvider store={indexedDbStore()} user={currentUser} messages={{ back: 'Zurück' }}>
 *   <FlowView flow={checkout} views={views} />
 * </WayflowProvider>
 */
export function WayflowProvider({ children, messages, ...config }: WayflowConfig & { messages?: Partial<WayflowMessages>; children: ReactNode }) {
  const outer = useContext(MessagesContext);
  return (
    <ConfigContext value={config}>
      <MessagesContext value={messages ? { ...outer, ...messages } : outer}>{children}</MessagesContext>
    </ConfigContext>
  );
}

/**
 * Makes an already opened task available to the hooks and components below, through one
 * subscription: a change of the task draws them all in one render.
 * @example
 * <TaskProvider task={task}><FlowOutlet views={views} /></TaskProvider>
 */
export function TaskProvider({ task, children }: { task: Task; children: ReactNode }) {
  return <TaskContext value={useBinding(task)}>{children}</TaskContext>;
}
