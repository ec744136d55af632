import { type Action, defineFlow, action as defineAction, type Flow, type TaskData } from '../core/index.ts';
import { type Outcome, outcome } from '../core/index.ts';
import type { StandardSchemaV1 } from '../core/index.ts';
import { type StartTaskOptions, startTask, type Task, type TaskState } from '../core/index.ts';
import { type AutomationClient, SyncError } from './client.ts';
import type { InstanceStatus, OpenFormRef } from './protocol.ts';

const AWAIT = 'wayflow.awaitAutomation';

/** What an `awaitAutomation` step keeps in its action's `meta` under `wayflow.awaitAutomation`: how to find its instance, and its client. */
export interface AwaitMeta {
  instance: (data: TaskData) => string;
  client: Pick<AutomationClient, 'status'> & Partial<AutomationClient>;
}

/** The `awaitAutomation` details of a step, or null for another step. */
export const awaitMetaOf = (step: { meta?: Record<string, unknown> } | null | undefined): AwaitMeta | null =>
  (step?.meta?.[AWAIT] as AwaitMeta | undefined) ?? null;

/** What `awaitAutomation` keeps in the task data under `<step id>$automation`: the instance, the last version it saw, the last browser message it handled. */
export interface AwaitMark {
  instanceId: string;
  version: string;
  seq: number;
}

/** The task-data key where `awaitAutomation` step `id` keeps its `AwaitMark`. */
export const awaitKey = (id: string): string => `${id}$automation`;

/**
 * Statuses `followAutomations` was just pushed, by task id: the awaiting step it resumes takes its
 * status from here instead of fetching it again (each is used once).
 */
const pushed = new Map<string, InstanceStatus>();

/**
 * An automatic step that starts a server automation (safe to retry: the task's idempotency key
 * makes the server return the instance it started before) and completes with
 * `{ [as]: { instanceId, automation } }`. A refused start fails the step, which can be retried;
 * `state.error` is then an `action-failed` error whose `cause` is the `SyncError` (the server's
 * words, for developers; `StartAutomationView` of `wayflow/react/automations` shows the user's).
 * @example
 * startAutomation({ id: 'order', title: 'Placing the order', client, automation: 'order', input: (d) => d.cart, as: 'order' })
 */
export function startAutomation(init: {
  id: string;
  title: string;
  client: Pick<AutomationClient, 'start'>;
  automation: string;
  input?: (data: TaskData) => unknown;
  as: string;
  meta?: Record<string, unknown>;
}): Action<unknown, never> {
  const { client, automation, input = () => ({}), as, ...rest } = init;
  return defineAction({
    ...rest,
    auto: true,
    submit: async (data, _input, ctx) => {
      const status = await client.start(automation, input(data), ctx.idempotencyKey);
      return outcome.complete({ [as]: { instanceId: status.id, automation } });
    },
  });
}

const MOVES = new Set(['complete', 'continue', 'enter', 'leave', 'break', 'goto', 'abort', 'suspend', 'suspend-and-repeat', 'fail']);
const isOutcome = (value: unknown): value is Outcome =>
  typeof value === 'object' && value !== null && MOVES.has((value as { type?: unknown }).type as string);

/** What a browser-message handler of `awaitAutomation` returns: an outcome, or data to complete the step with. */
export type MessageHandler = (payload: Record<string, unknown>, status: InstanceStatus) => Outcome | Record<string, unknown>;

/**
 * An automatic step that waits for a server automation. Each run reads the instance's status:
 * the first browser message not handled yet that has an `on` handler decides (an outcome, or data
 * to complete with), else `until(status)` (default: the instance finished) completes, merging the
 * data it returns, else the step repeats after `pollMs` (default 5000); an instance that stopped
 * (error, or finished without `until`) fails the step. Handled messages are
 * remembered in the task data, so each is handled once even across reloads. `followAutomations`
 * re-runs the step as soon as a new status is pushed, with that status (no second request).
 * @example
 * awaitAutomation({ id: 'wait', title: 'Waiting for approval', client, instance: (d) => d.order.instanceId,
 *   on: { rejected: (payload) => outcome.goTo('rejected', payload) } })
 */
export function awaitAutomation<T extends string = never>(init: {
  id: string;
  title: string;
  client: Pick<AutomationClient, 'status'>;
  instance: (data: TaskData) => string;
  until?: (status: InstanceStatus) => Record<string, unknown> | boolean | null | undefined;
  on?: Record<string, MessageHandler>;
  pollMs?: number;
  targets?: readonly T[];
  meta?: Record<string, unknown>;
}): Action<undefined, T> {
  const { client, instance, until = (s) => s.status === 'finished', on = {}, pollMs = 5000, meta, ...rest } = init;
  const key = awaitKey(init.id);
  return defineAction({
    ...rest,
    auto: true,
    meta: { ...meta, [AWAIT]: { instance, client } satisfies AwaitMeta },
    submit: async (data, _input, ctx) => {
      const instanceId = instance(data);
      const previous = data[key] as AwaitMark | undefined;
      let seq = previous?.instanceId === instanceId ? previous.seq : -1;
      let status: InstanceStatus;
      const fresh = pushed.get(ctx.taskId);
      pushed.delete(ctx.taskId);
      try {
        status = fresh?.id === instanceId ? fresh : await client.status(instanceId);
      } catch (error) {
        if (!(error instanceof SyncError)) throw error;
        if (error.status === 0 || error.status >= 500) return outcome.suspendAndRepeat(Date.now() + pollMs);
        throw error;
      }
      const mark = () => ({ [key]: { instanceId, version: status.version, seq } satisfies AwaitMark });
      for (const message of status.messages) {
        const handler = on[message.message];
        if (message.seq <= seq || !handler) continue;
        seq = message.seq;
        const result = handler(message.payload, status);
        if (!isOutcome(result)) return outcome.complete({ ...result, ...mark() });
        return result.type === 'fail' ? result : { ...result, data: { ...result.data, ...mark() } };
      }
      const done = until(status);
      if (done) return outcome.complete({ ...(done === true ? {} : done), ...mark() });
      // Nothing will change any more: waiting longer would never end.
      if (status.status !== 'running') {
        return outcome.fail(`The automation "${status.verboseName}" ${status.status === 'error' ? 'stopped with an error' : 'finished without reaching what this step waits for'}.`);
      }
      return outcome.suspendAndRepeat(Date.now() + pollMs, mark());
    },
  }) as Action<undefined, T>;
}

/** The instance a task suspended at an `awaitAutomation` step waits for, with the version that step saw last. */
export function awaitedInstance(state: TaskState): { step: string; instanceId: string; version: string | undefined } | null {
  const meta = awaitMetaOf(state.step);
  if (state.status !== 'suspended' || !meta || !state.step) return null;
  const instanceId = meta.instance(state.data);
  const mark = state.data[awaitKey(state.step.id)] as AwaitMark | undefined;
  return { step: state.step.id, instanceId, version: mark?.instanceId === instanceId ? mark.version : undefined };
}

/**
 * While `task` is suspended at an `awaitAutomation` step, watches that instance and resumes the
 * task as soon as a status newer than the one the step saw arrives; stops watching when the task
 * moves on; `onStatus` sees every status that arrives. Returns the unsubscribe function (call it before disposing the task).
 * @example
 * const unfollow = followAutomations(task, client);
 */
export function followAutomations(task: Task, client: Pick<AutomationClient, 'watch'>, onStatus?: (status: InstanceStatus) => void): () => void {
  let current: { key: string; stop(): void } | null = null;
  const check = (state: TaskState) => {
    const awaited = awaitedInstance(state);
    const key = awaited ? `${awaited.step}\n${awaited.instanceId}` : null;
    if (current?.key === key) return;
    current?.stop();
    current = null;
    if (!awaited || !key) return;
    const stop = client.watch(awaited.instanceId, (status) => {
      onStatus?.(status);
      const now = awaitedInstance(task.state);
      if (now?.step === awaited.step && now.instanceId === awaited.instanceId && now.version !== status.version) {
        pushed.set(task.id, status);
        task
          .resume()
          .catch(() => undefined)
          .finally(() => pushed.delete(task.id));
      }
    });
    current = { key, stop };
  };
  const unsubscribe = task.subscribe(check);
  check(task.state);
  return () => {
    unsubscribe();
    current?.stop();
    current = null;
    pushed.delete(task.id);
  };
}

/** The data of an automation form's task: the open form it processes, plus the data the automation exposes. */
export interface FormTaskData {
  form: { instanceId: string; taskId: number };
  [key: string]: unknown;
}

/**
 * A browser flow of one step that processes a server automation's open Form node: give it the
 * same schema as the Form node. A 422 shows the server's field errors next to the inputs, a 403 or
 * 409 a message; on success the task completes with `{ instance: status }`.
 * @example
 * const approval = automationForm({ id: 'approve', title: 'Approve the order', schema: approveSchema, client });
 */
export function automationForm<S extends StandardSchemaV1>(init: {
  flowId?: string;
  id: string;
  title: string;
  schema: S;
  client: Pick<AutomationClient, 'submitForm'>;
  meta?: Record<string, unknown>;
}): Flow {
  const { flowId, client, ...rest } = init;
  const step = defineAction({
    ...rest,
    submit: async (data, input) => {
      const { instanceId, taskId } = (data as FormTaskData).form;
      try {
        return outcome.complete({ instance: await client.submitForm(instanceId, taskId, input) });
      } catch (error) {
        // The core's words for fields that did not validate; other refusals stay errors (`state.error`, its cause the SyncError).
        if (error instanceof SyncError && error.code === 'invalid-input') return outcome.fail('Some fields need your attention.', error.fields);
        throw error;
      }
    },
  });
  return defineFlow({ id: flowId ?? `automation-form-${init.id}`, title: init.title, children: [step] });
}

/**
 * Starts a task of an `automationForm` flow for one open form, its data the data the form exposes.
 * @example
 * const task = await openFormTask(approval, await client.form(instanceId, taskId));
 */
export function openFormTask(flow: Flow, form: OpenFormRef & { data?: Record<string, unknown> }, options: StartTaskOptions = {}): Promise<Task> {
  return startTask(flow, { ...options, data: { ...form.data, ...options.data, form: { instanceId: form.instanceId, taskId: form.taskId } } });
}
