import { hash } from 'node:crypto';
import { type AutomationDefinition, type HistoryRow, type InstanceRecord, nodeOf, openForms, toJson } from '../../automations/index.ts';
import type { BrowserMessage, HistoryEntryView, InstanceStatus, OpenFormRef } from '../../sync/index.ts';
import type { SyncOptions } from './options.ts';

/** The part of the instance data an automation exposes to browsers (`{}` unless `expose` says otherwise). */
export function exposedData(options: SyncOptions, automation: string, data: Record<string, unknown>): Record<string, unknown> {
  const expose = options.automations?.[automation]?.expose;
  if (!expose) return {};
  return (toJson(expose(structuredClone(data))) ?? {}) as Record<string, unknown>;
}

/** The browser messages in an instance's history: closed SendMessage rows with a `{ browser }` result, oldest first. */
export function browserMessages(definition: AutomationDefinition | undefined, history: readonly HistoryRow[]): BrowserMessage[] {
  return history.flatMap((row) => {
    const result = row.result as { browser?: { message?: unknown; payload?: unknown } } | null;
    const browser = result && typeof result === 'object' ? result.browser : undefined;
    if (row.finished === null || !browser || typeof browser.message !== 'string') return [];
    // An execute node returning the same shape is not a browser message.
    const node = definition && nodeOf(definition, row.status);
    if (node && node.kind !== 'send-message') return [];
    const payload = browser.payload && typeof browser.payload === 'object' ? (browser.payload as Record<string, unknown>) : {};
    return [{ seq: row.taskId, message: browser.message, payload, at: row.finished }];
  });
}

/** The open forms of an instance (whoever may process them). */
export function formRefs(definition: AutomationDefinition | undefined, record: InstanceRecord): OpenFormRef[] {
  if (!definition || record.finished) return [];
  return openForms(definition, record).map(({ instanceId, taskId, node, description, since }) => ({ instanceId, taskId, node, description, since }));
}

/** What a browser may know of an instance; `version` is a hash of everything else, so it changes whenever anything does. */
export function instanceStatus(
  definition: AutomationDefinition | undefined,
  record: InstanceRecord,
  history: readonly HistoryRow[],
  options: SyncOptions,
): InstanceStatus {
  const status: Omit<InstanceStatus, 'version'> = {
    id: record.id,
    automation: record.automation,
    verboseName: definition?.verboseName ?? record.automation,
    // A django-ws process whose end task failed is finished in a failed state: `error`.
    status: record.finished ? (record.paths.some((p) => p.failedEnd === true) ? 'error' : 'finished') : record.paths.some((p) => p.status === 'error') ? 'error' : 'running',
    nodes: record.finished ? [] : [...new Set(record.paths.map((p) => p.node))],
    forms: formRefs(definition, record),
    data: exposedData(options, record.automation, record.data),
    messages: browserMessages(definition, history),
    createdAt: record.createdAt,
    finishedAt: record.finishedAt,
  };
  // One-shot: no Hash object per status (the same digest as before, so versions stay comparable across an upgrade).
  const version = hash('sha256', JSON.stringify(status), 'base64url').slice(0, 22);
  return { ...status, version };
}

/** History rows as the dashboard shows them. */
export function historyView(history: readonly HistoryRow[]): HistoryEntryView[] {
  return history.map((row) => ({
    taskId: row.taskId,
    node: row.status,
    created: row.created,
    finished: row.finished,
    message: row.message,
    completedBy: row.completedBy ?? null,
  }));
}

/** Hours since `since`, one decimal (django's hours_since_created). */
export function hoursSince(since: number, now: number): number {
  return Math.round((now - since) / 360_000) / 10;
}
