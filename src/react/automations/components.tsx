import { type ReactNode, useContext, useEffect, useId, useState } from 'react';
import type { Flow, Task } from '../../core/index.ts';
import {
  type AutomationClient,
  awaitMetaOf,
  followAutomations,
  type InstanceStatus,
  type NodeCountsView,
  type OpenFormRef,
  type OpenFormSummary,
  openFormTask,
  type ProcessGraphView,
} from '../../sync/index.ts';
import { TaskContext } from '../context.ts';
import { useTask } from '../hooks.ts';
import { MessagesContext } from '../messages.ts';
import { FlowOutlet, type StepViewProps, type StepViews } from '../outlet.tsx';
import { TaskProvider } from '../provider.tsx';
import { AutoStepView } from '../views.tsx';
import { syncErrorText, useAutomationMessages, useSyncErrorMessage } from './messages.ts';

type Loaded<T> = { value: T | null; error: (Error & { status?: number }) | null };

/** Runs `load` whenever one of `a`, `b`, `c` changes; keeps the last value or error. (Shared with live-map.tsx, not exported by index.ts.) */
export function useLoad<T>(load: () => Promise<T>, a: unknown, b?: unknown, c?: unknown): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({ value: null, error: null });
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names what `load` depends on
  useEffect(() => {
    let live = true;
    load().then(
      (value) => live && setState({ value, error: null }),
      (error) => live && setState({ value: null, error }),
    );
    return () => {
      live = false;
    };
  }, [a, b, c]);
  return state;
}

/** The user's words for a failed request (the server's message goes to the console, once). */
export function Failure({ error, forbidden }: { error: unknown; forbidden?: string }) {
  const text = useSyncErrorMessage(error);
  return <p role="alert">{forbidden && (error as { status?: number }).status === 403 ? forbidden : text}</p>;
}
/** A loading notice. */
export const Loading = ({ text }: { text: string }) => <p role="status">{text}</p>;
const time = (ms: number | null) => (ms == null ? '—' : new Date(ms).toLocaleString());

/**
 * The live status of one instance (server-sent events, polling as the fallback); `status` is null until the first one arrives.
 * @example
 * const { status } = useAutomationStatus(client, order.instanceId);
 */
export function useAutomationStatus(client: Pick<AutomationClient, 'watch'>, instanceId: string | null | undefined): { status: InstanceStatus | null; error: unknown } {
  const [state, setState] = useState<{ status: InstanceStatus | null; error: unknown }>({ status: null, error: null });
  useEffect(() => {
    setState({ status: null, error: null });
    if (!instanceId) return;
    return client.watch(instanceId, (status) => setState({ status, error: null }), { onError: (error) => setState((s) => ({ ...s, error })) });
  }, [client, instanceId]);
  return state;
}

/**
 * The open forms the user may process: automation, step, hours waiting and an Open button,
 * read again every `refreshMs` (default 15 s; 0: never) so new tasks appear by themselves.
 * @example
 * <AutomationTaskList client={client} onOpen={(form) => navigate(`/tasks/${form.instanceId}/${form.taskId}`)} />
 */
export function AutomationTaskList({
  client,
  onOpen,
  caption,
  refreshMs = 15_000,
}: { client: Pick<AutomationClient, 'forms'>; onOpen(form: OpenFormSummary): void; caption?: ReactNode; refreshMs?: number }) {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!refreshMs) return;
    const timer = setInterval(() => setTick((n) => n + 1), refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs]);
  const { value, error } = useLoad(() => client.forms(), client, tick);
  const m = useAutomationMessages();
  if (error) return <Failure error={error} />;
  if (!value) return <Loading text={m.loadingTasks} />;
  if (value.length === 0) return <p>{m.noTasks}</p>;
  return (
    <table>
      <caption>{caption ?? m.openTasks}</caption>
      <Head cells={[m.automation, m.task, m.waiting, m.action]} />
      <tbody>
        {value.map((form) => (
          <tr key={`${form.instanceId}/${form.taskId}`}>
            <td>{form.verboseName}</td>
            <td>{form.description || form.node}</td>
            <td>{m.hours(form.hoursWaiting.toFixed(1))}</td>
            <td>
              <button type="button" aria-label={m.openTask(form.description || form.node, form.verboseName)} onClick={() => onOpen(form)}>
                {m.open}
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const Head = ({ cells }: { cells: string[] }) => (
  <thead>
    <tr>
      {cells.map((c) => (
        <th key={c} scope="col">
          {c}
        </th>
      ))}
    </tr>
  </thead>
);

/**
 * Automations by kind: running and finished counts, running instances per node (drawn on the
 * automation's graph by `map`, when given), recent instances. Needs the `automations.view` permission.
 * @example
 * <AutomationDashboard client={client} onInspect={(id) => navigate(`/automations/${id}`)} />
 */
export function AutomationDashboard({
  client,
  onInspect,
  map,
}: {
  client: Pick<AutomationClient, 'dashboard'>;
  onInspect?(instanceId: string): void;
  /** Draws each automation's definition with its running instances per node, e.g. `(props) => <ProcessMap {...props} />`. */
  map?: (props: InstanceMapProps) => ReactNode;
}) {
  const { value, error } = useLoad(() => client.dashboard(), client);
  const m = useAutomationMessages();
  if (error) return <Failure error={error} forbidden={m.dashboardForbidden} />;
  if (!value) return <Loading text={m.loadingDashboard} />;
  if (value.automations.length === 0) return <p>{m.noAutomations}</p>;
  return value.automations.map((kind) => (
    <section key={kind.name} aria-label={kind.verboseName}>
      <h2>{kind.verboseName}</h2>
      <p>{m.counts(kind.running, kind.finished)}</p>
      {map?.({ graph: kind.graph, counts: Object.fromEntries(kind.nodes.map((n) => [n.node, { waiting: n.count, passed: 0, errors: 0 }])), title: kind.verboseName })}
      <table>
        <caption>{m.perNode(kind.verboseName)}</caption>
        <Head cells={[m.node, m.instances]} />
        <tbody>
          {kind.nodes.map((n) => (
            <tr key={n.node}>
              <th scope="row">{n.node}</th>
              <td>{n.count}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {kind.recent.length > 0 && (
        <table>
          <caption>{m.recent(kind.verboseName)}</caption>
          <Head cells={onInspect ? [m.instance, m.status, m.at, m.started, m.action] : [m.instance, m.status, m.at, m.started]} />
          <tbody>
            {kind.recent.map((i) => (
              <tr key={i.id}>
                <th scope="row">{i.id}</th>
                <td>{i.status}</td>
                <td>{i.nodes.join(', ') || '—'}</td>
                <td>{time(i.createdAt)}</td>
                {onInspect && (
                  <td>
                    <button type="button" aria-label={m.inspectInstance(i.id)} onClick={() => onInspect(i.id)}>
                      {m.inspect}
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  ));
}

/** What `AutomationInstance` and `AutomationDashboard` hand their `map`: an automation's graph, counts per node, and a title. */
export interface InstanceMapProps {
  graph: ProcessGraphView;
  counts: Record<string, NodeCountsView>;
  title: string;
}

/**
 * One instance: its status, the nodes it is at, its automation's definition with what the
 * instance did at each node (drawn by `map`, e.g. `ProcessMap` of `wayflow/react/map`, kept
 * out of this bundle), and its history; refreshed whenever its status changes.
 * @example
 * <AutomationInstance client={client} instanceId={id} map={(props) => <ProcessMap {...props} />} />
 */
export function AutomationInstance({
  client,
  instanceId,
  map,
}: {
  client: Pick<AutomationClient, 'inspect' | 'watch'>;
  instanceId: string;
  map?: (props: InstanceMapProps) => ReactNode;
}) {
  const live = useAutomationStatus(client, instanceId);
  const { value, error } = useLoad(() => client.inspect(instanceId), client, instanceId, live.status?.version);
  const headingId = useId();
  const m = useAutomationMessages();
  if (error) return <Failure error={error} forbidden={m.inspectForbidden} />;
  if (!value) return <Loading text={m.loadingInstance} />;
  const instance = live.status?.id === instanceId ? live.status : value.instance;
  return (
    <section aria-labelledby={headingId}>
      <h2 id={headingId}>
        {instance.verboseName} {instance.id}
      </h2>
      <dl>
        <dt>{m.status}</dt>
        <dd>{instance.status}</dd>
        <dt>{m.at}</dt>
        <dd>{instance.nodes.join(', ') || '—'}</dd>
        <dt>{m.started}</dt>
        <dd>{time(instance.createdAt)}</dd>
        <dt>{m.finished}</dt>
        <dd>{time(instance.finishedAt)}</dd>
      </dl>
      {map?.({ graph: value.graph, counts: value.counts, title: instance.verboseName })}
      <table>
        <caption>{m.history}</caption>
        <Head cells={[m.task, m.node, m.started, m.finished, m.message, m.completedBy]} />
        <tbody>
          {value.history.map((h) => (
            <tr key={h.taskId}>
              <td>{h.taskId}</td>
              <td>{h.node}</td>
              <td>{time(h.created)}</td>
              <td>{time(h.finished)}</td>
              <td>{h.message ?? ''}</td>
              <td>{h.completedBy ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/**
 * Opens an open form as the step of a browser flow made by `automationForm` and renders it with
 * `FlowOutlet` and your views; the task lives in memory while the form is shown.
 * @example
 * <AutomationFormTask client={client} form={form} flow={approval} views={{ approve: ApproveView }} completed={<h1>Thanks</h1>} />
 */
export function AutomationFormTask({
  client,
  form,
  flow,
  views,
  completed,
  aborted,
}: {
  client: Pick<AutomationClient, 'form'>;
  form: Pick<OpenFormRef, 'instanceId' | 'taskId'>;
  flow: Flow;
  views?: StepViews;
  completed?: ReactNode;
  aborted?: ReactNode;
}) {
  const [state, setState] = useState<{ task?: Task; error?: Error }>({});
  useEffect(() => {
    let live = true;
    let opened: Task | undefined;
    setState({});
    client
      .form(form.instanceId, form.taskId)
      .then((detail) => openFormTask(flow, detail))
      .then(
        (task) => {
          opened = task;
          if (live) setState({ task });
          else task.dispose();
        },
        (error) => live && setState({ error }),
      );
    return () => {
      live = false;
      opened?.dispose();
    };
  }, [client, flow, form.instanceId, form.taskId]);
  const m = useAutomationMessages();
  if (state.error) return <Failure error={state.error} />;
  if (!state.task) return <Loading text={m.loadingForm} />;
  return (
    <TaskProvider task={state.task}>
      <RefusalWords>
        <FlowOutlet views={views} completed={completed} aborted={aborted} />
      </RefusalWords>
    </TaskProvider>
  );
}

/** Below it, `failed` says what a refused form submit means by the code of its `SyncError` (`formClosed`, `formForbidden`, …). */
function RefusalWords({ children }: { children: ReactNode }) {
  const { error } = useTask();
  const m = useAutomationMessages();
  return <MessagesContext.Provider value={error ? { ...m, failed: syncErrorText(m, error) } : m}>{children}</MessagesContext.Provider>;
}

/**
 * Resumes the task (the given one, or the nearest provided one) as soon as a status is pushed
 * for the automation its `awaitAutomation` step waits for (see `followAutomations`).
 * @example
 * useFollowAutomations(client);
 */
export function useFollowAutomations(client: Pick<AutomationClient, 'watch'>, task?: Task): void {
  const provided = useContext(TaskContext);
  const followed = task ?? provided?.task;
  useEffect(() => (followed ? followAutomations(followed, client) : undefined), [followed, client]);
}

/**
 * The view of a `startAutomation` step (or any automatic step calling the automations API): a
 * refused request in the user's words by the code of its `SyncError` (`tooMany`, `unavailable`,
 * …, else `failed`), and "Try again"; the server's message goes to the console.
 * @example
 * <FlowOutlet views={{ start: StartAutomationView }} />
 */
export function StartAutomationView() {
  return (
    <RefusalWords>
      <AutoStepView />
    </RefusalWords>
  );
}

/**
 * The view of an `awaitAutomation` step: what the automation is doing (live, with its client),
 * resuming the task when a new status is pushed; a failed check shows the error and "Try again".
 * @example
 * <FlowOutlet views={{ wait: AwaitAutomationView }} />
 */
export function AwaitAutomationView({ step, task }: StepViewProps) {
  const client = awaitMetaOf(step)?.client;
  const m = useAutomationMessages();
  const [status, setStatus] = useState<InstanceStatus | null>(null);
  useEffect(() => (client?.watch ? followAutomations(task.task, client as AutomationClient, setStatus) : undefined), [task.task, client]);
  if (task.status !== 'suspended' && !task.pending) return <StartAutomationView />;
  return (
    <p role="status" className="wayflow-waiting">
      {status ? `${status.verboseName}: ${status.nodes.join(', ') || status.status}` : m.waitingForAutomation}
    </p>
  );
}
