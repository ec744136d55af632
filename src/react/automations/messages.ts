import { useContext } from 'react';
import type { WayflowError } from '../../core/index.ts';
import { SyncError } from '../../sync/index.ts';
import { MessagesContext, useErrorMessage } from '../messages.ts';

/**
 * Every string the components of `wayflow/react/automations` show, in English. Change them with
 * the same `messages` prop of `WayflowProvider` as the strings of `defaultMessages`.
 */
export const automationMessages = {
  /** While a list, the dashboard, an instance or an open form loads. */
  loadingTasks: 'Loading tasks…',
  loadingDashboard: 'Loading the dashboard…',
  loadingInstance: 'Loading the instance…',
  loadingForm: 'Loading the task…',
  /** `AutomationTaskList`: its caption (the `caption` prop overrides it), empty state and column headings. */
  openTasks: 'Open tasks',
  noTasks: 'No open tasks.',
  automation: 'Automation',
  task: 'Task',
  waiting: 'Waiting',
  action: 'Action',
  hours: (hours: string) => `${hours} h`,
  open: 'Open',
  /** The accessible name of a task's Open button. */
  openTask: (task: string, automation: string) => `Open ${task} (${automation})`,
  /** `AutomationDashboard`. */
  noAutomations: 'No automations.',
  counts: (running: number, finished: number) => `${running} running, ${finished} finished`,
  perNode: (automation: string) => `${automation}: running instances per node`,
  recent: (automation: string) => `${automation}: recent instances`,
  node: 'Node',
  instances: 'Instances',
  instance: 'Instance',
  status: 'Status',
  at: 'At',
  started: 'Started',
  finished: 'Finished',
  inspect: 'Inspect',
  inspectInstance: (id: string) => `Inspect ${id}`,
  /** `AutomationInstance`: its history table (and the `task`, `node`, `started`, `finished` headings). */
  history: 'History',
  message: 'Message',
  completedBy: 'Completed by',
  /** `AwaitAutomationView` before the first status arrives. */
  waitingForAutomation: 'Waiting for the automation…',
  /** Failures, by the `code` of the `SyncError` (others: `failed`). */
  dashboardForbidden: 'You need the automations.view permission to see the dashboard.',
  inspectForbidden: 'You need the automations.view permission to inspect instances.',
  formForbidden: 'You may not process this task.',
  formClosed: 'This task was already processed by someone else; it is no longer open.',
  formNotFound: 'This task is no longer open.',
  instanceNotFound: 'This automation was not found.',
  tooMany: 'Too many requests at once. Wait a moment and try again.',
  unavailable: 'The server is busy for a moment. Try again shortly.',
  unreachable: 'The server cannot be reached. Check your connection and try again.',
};

/** The strings of `automationMessages`, by key. */
export type AutomationMessages = typeof automationMessages;

/**
 * The strings of `wayflow/react` and `wayflow/react/automations`, as given to the nearest `WayflowProvider`.
 * @example
 * const { openTasks } = useAutomationMessages();
 */
export function useAutomationMessages() {
  return { ...automationMessages, ...useContext(MessagesContext) };
}

const byCode: Record<string, keyof AutomationMessages> = {
  'dashboard-forbidden': 'dashboardForbidden',
  'form-forbidden': 'formForbidden',
  'form-closed': 'formClosed',
  'form-not-found': 'formNotFound',
  'instance-not-found': 'instanceNotFound',
};
/** `too-many-*`, `database-unavailable` (or a proxy's 503), `unreachable`. */
const byStatus: Record<number, keyof AutomationMessages> = { 0: 'unreachable', 429: 'tooMany', 503: 'unavailable' };

/** The `SyncError` behind `error`: itself, or the cause of the `action-failed` error a refused submit became. */
const syncErrorOf = (error: unknown): SyncError | null =>
  error instanceof SyncError ? error : error instanceof Error && error.cause instanceof SyncError ? error.cause : null;

/**
 * What to tell the user about a failed automations request (by its `SyncError` code; `failed` for
 * any other error, `invalidInput` for `invalid-input`), never the server's message: that one goes to the console, once.
 * @example
 * const text = useSyncErrorMessage(error);
 * return text && <p role="alert">{text}</p>;
 */
export function useSyncErrorMessage(error: unknown): string | null {
  const m = useAutomationMessages();
  useErrorMessage(error as WayflowError | null);
  return error ? syncErrorText(m, error) : null;
}

/** The user's words for `error` from the messages `m` (see `useSyncErrorMessage`); logs nothing. */
export function syncErrorText(m: ReturnType<typeof useAutomationMessages>, error: unknown): string {
  const sync = syncErrorOf(error);
  if (sync?.code === 'invalid-input') return m.invalidInput;
  const key = sync && (byCode[sync.code] ?? byStatus[sync.status]);
  return key ? (m[key] as string) : m.failed;
}
