// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReactNode } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { defineFlow, startTask } from '../../src/core/index.ts';
import { defaultMessages, Field, FlowOutlet, StepForm, TaskProvider, type WayflowMessages, WayflowProvider } from '../../src/react/index.ts';
import {
  AutomationDashboard,
  AutomationFormTask,
  AutomationInstance,
  AutomationTaskList,
  AwaitAutomationView,
  automationMessages,
  StartAutomationView,
} from '../../src/react/automations/index.ts';
import { type AutomationClient, automationClient, automationForm, awaitAutomation, startAutomation, SyncError } from '../../src/sync/index.ts';
import type { DashboardView, OpenFormSummary } from '../../src/sync/protocol.ts';
import { perceived } from '../helpers/perceived.ts';
import { fakeFetch, statusOf } from '../sync/fakes.ts';
import { silenceConsoleErrors } from '../helpers/console-errors.ts';

silenceConsoleErrors();
const logged = () => vi.mocked(console.error);


/** Every automations message (and the base ones these views show) replaced by a marker naming its key. */
const marked = Object.fromEntries(
  Object.entries({ ...automationMessages, failed: '', invalidInput: '', continue: '' }).map(([key, value]) => [
    key,
    typeof value === 'function' ? (...args: unknown[]) => `«${key}(${args.join(',')})»` : `«${key}»`,
  ]),
) as Partial<WayflowMessages>;
const english = [...Object.values(automationMessages), defaultMessages.failed, defaultMessages.invalidInput].filter((v): v is string => typeof v === 'string');

const inMarked = (children: ReactNode) => render(<WayflowProvider messages={marked}>{children}</WayflowProvider>);
const never = () => new Promise<never>(() => undefined);
function clientWith(methods: Partial<AutomationClient>): AutomationClient {
  return { forms: never, form: never, submitForm: never, start: never, status: never, send: never, dashboard: never, inspect: never, map: never, mapInstances: never, watch: () => () => undefined, watchMap: () => () => undefined, ...methods };
}
const form: OpenFormSummary = { instanceId: 'i1', taskId: 4, node: 'n1', description: 'Alpha', since: 0, automation: 'Z', verboseName: 'Zeta', hoursWaiting: 2.5 };
const dashboard: DashboardView = {
  automations: [
    {
      name: 'Z',
      verboseName: 'Zeta',
      running: 1,
      finished: 2,
      nodes: [{ node: 'n1', count: 1 }],
      graph: { nodes: [{ id: 'n1', label: 'n1', kind: 'execute' }], edges: [] },
      recent: [{ ...statusOf('v1', { id: 'i1', verboseName: 'Zeta', nodes: ['n1'] }) }],
    },
  ],
} as DashboardView;
const schema = z.object({ decision: z.string().min(1, 'Pick one') });
const View = () => (
  <StepForm>
    <Field name="decision" label="Decision" />
  </StepForm>
);

/** No English default of the automations views is left on the page. */
async function noEnglish(marker: string) {
  await waitFor(() => expect(perceived()).toContain(marker));
  const text = perceived().replace(/«[^»]*»/g, '');
  for (const value of english) expect(text, `"${value}" is still shown`).not.toContain(value);
}

describe('the messages of wayflow/react/automations', () => {
  it('replaces every default through the messages of WayflowProvider, in every view', async () => {
    inMarked(<AutomationTaskList client={clientWith({})} onOpen={() => undefined} />);
    await noEnglish('«loadingTasks»');
    cleanup();
    inMarked(<AutomationTaskList client={clientWith({ forms: async () => [form] })} onOpen={() => undefined} />);
    await noEnglish('«openTask(Alpha,Zeta)»');
    for (const key of ['openTasks', 'automation', 'task', 'waiting', 'action', 'hours(2.5)', 'open']) expect(perceived()).toContain(`«${key}»`);
    cleanup();
    inMarked(<AutomationTaskList client={clientWith({ forms: async () => [] })} onOpen={() => undefined} />);
    await noEnglish('«noTasks»');
    cleanup();
    inMarked(<AutomationDashboard client={clientWith({})} />);
    await noEnglish('«loadingDashboard»');
    cleanup();
    inMarked(<AutomationDashboard client={clientWith({ dashboard: async () => dashboard })} onInspect={() => undefined} />);
    await noEnglish('«inspectInstance(i1)»');
    for (const key of ['counts(1,2)', 'perNode(Zeta)', 'recent(Zeta)', 'node', 'instances', 'instance', 'status', 'at', 'started', 'inspect']) expect(perceived()).toContain(`«${key}»`);
    cleanup();
    inMarked(<AutomationDashboard client={clientWith({ dashboard: async () => ({ automations: [] }) })} />);
    await noEnglish('«noAutomations»');
    cleanup();
    inMarked(<AutomationDashboard client={clientWith({ dashboard: () => Promise.reject(new SyncError('dashboard-forbidden', 'Needs automations.view.', 403)) })} />);
    await noEnglish('«dashboardForbidden»');
    cleanup();
    inMarked(<AutomationInstance client={clientWith({})} instanceId="i1" />);
    await noEnglish('«loadingInstance»');
    cleanup();
    inMarked(<AutomationInstance client={clientWith({ inspect: async () => ({ instance: statusOf('v1'), history: [], graph: { nodes: [], edges: [] }, counts: {} }) })} instanceId="i1" />);
    await noEnglish('«history»');
    for (const key of ['status', 'at', 'started', 'finished', 'task', 'node', 'message', 'completedBy']) expect(perceived()).toContain(`«${key}»`);
    cleanup();
    inMarked(<AutomationInstance client={clientWith({ inspect: () => Promise.reject(new SyncError('forbidden', 'Forbidden', 403)) })} instanceId="i1" />);
    await noEnglish('«inspectForbidden»');
    cleanup();
    const flow = automationForm({ id: 'approve', title: 'Approve', schema, client: clientWith({}) });
    inMarked(<AutomationFormTask client={clientWith({})} form={form} flow={flow} />);
    await noEnglish('«loadingForm»');
    cleanup();
    const refusals: [SyncError, string][] = [
      [new SyncError('form-not-found', 'No open form 4 of instance i1.', 404), 'formNotFound'],
      [new SyncError('instance-not-found', 'No instance i1.', 404), 'instanceNotFound'],
      [new SyncError('too-many-instances', 'Session s1 runs 20 instances.', 429), 'tooMany'],
      [new SyncError('database-unavailable', 'PGlite is closed.', 503), 'unavailable'],
      [new SyncError('unreachable', 'The automations server cannot be reached.', 0), 'unreachable'],
      [new SyncError('http-500', 'The automations server answered 500.', 500), 'failed'],
    ];
    for (const [error, key] of refusals) {
      inMarked(<AutomationFormTask client={clientWith({ form: () => Promise.reject(error) })} form={form} flow={flow} />);
      await noEnglish(`«${key}»`);
      expect(perceived()).not.toContain(error.message);
      cleanup();
    }
    const wait = defineFlow({
      id: 'order',
      title: 'Order',
      children: [awaitAutomation({ id: 'wait', title: 'Zz', client: clientWith({ status: async () => statusOf('v1') }), instance: () => 'i1', until: () => false, pollMs: 3_600_000 })],
    });
    const task = await startTask(wait);
    inMarked(
      <TaskProvider task={task}>
        <FlowOutlet views={{ wait: AwaitAutomationView }} />
      </TaskProvider>,
    );
    await noEnglish('«waitingForAutomation»');
    task.dispose();
  });

  it('keeps the English defaults without messages, and a caption prop over openTasks', async () => {
    render(<AutomationTaskList client={clientWith({ forms: async () => [form] })} onOpen={() => undefined} caption="Inbox" />);
    expect(await screen.findByRole('table', { name: 'Inbox' })).toBeTruthy();
    expect(screen.getByRole('button', { name: automationMessages.openTask('Alpha', 'Zeta') }).textContent).toBe(automationMessages.open);
  });
});

describe('what the user is told when an automations request fails', () => {
  it.each([
    [403, 'form-forbidden', 'Only users in group managers may process node approve of OrderFulfilment.', automationMessages.formForbidden],
    [409, 'form-closed', 'Task 4 of instance i1 was completed by ada at 12:00.', automationMessages.formClosed],
    [503, 'database-unavailable', 'PGlite is restarting; retry after 2 s.', automationMessages.unavailable],
    [429, 'too-many-instances', 'Session abc runs 20 instances.', automationMessages.tooMany],
  ])('shows a %i (%s) on submit in plain words; the server message only on the console, once', async (status, code, message, words) => {
    const { fetch } = fakeFetch((_url, request) =>
      request.method === 'GET' ? [200, { form: { ...form, data: {} } }] : [status, { error: { code, message } }],
    );
    const client = automationClient({ fetch, EventSource: null });
    const flow = automationForm({ id: 'approve', title: 'Approve', schema, client });
    render(<AutomationFormTask client={client} form={form} flow={flow} views={{ approve: View }} />);
    fireEvent.change(await screen.findByLabelText('Decision'), { target: { value: 'yes' } });
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe(words));
    expect(perceived()).not.toContain(message);
    const sent = logged().mock.calls.map(([error]) => error as Error);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ code: 'action-failed', cause: { code, message } });
  });

  it.each([
    [503, 'database-unavailable', 'PGlite is restarting; retry after 2 s.', automationMessages.unavailable],
    [429, 'too-many-starts', 'Session abc started 20 instances this minute.', automationMessages.tooMany],
    [500, 'internal', 'TypeError: cannot read properties of undefined (reading "sku")', defaultMessages.failed],
  ])('shows a refused automatic start (%i %s) in plain words, the SyncError on state.error and the console once', async (status, code, message, words) => {
    const refused = new SyncError(code, message, status);
    const flow = defineFlow({
      id: 'order',
      title: 'Order',
      children: [startAutomation({ id: 'start', title: 'Placing the order', client: clientWith({ start: () => Promise.reject(refused) }), automation: 'Order', as: 'order' })],
    });
    const task = await startTask(flow);
    expect(task.state.error).toMatchObject({ code: 'action-failed', cause: refused, message: expect.stringContaining(message) });
    render(
      <TaskProvider task={task}>
        <FlowOutlet views={{ start: StartAutomationView }} />
      </TaskProvider>,
    );
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe(words));
    expect(perceived()).not.toContain(message);
    expect(logged().mock.calls.map(([error]) => error)).toEqual([task.state.error]);
    task.dispose();
  });

  it('shows a failed status check of awaitAutomation in plain words', async () => {
    const refused = new SyncError('instance-not-found', 'No instance i1 for session abc.', 404);
    const flow = defineFlow({
      id: 'order',
      title: 'Order',
      children: [awaitAutomation({ id: 'wait', title: 'Waiting', client: clientWith({ status: () => Promise.reject(refused) }), instance: () => 'i1' })],
    });
    const task = await startTask(flow);
    expect(task.state.error).toMatchObject({ code: 'action-failed', cause: refused });
    render(
      <TaskProvider task={task}>
        <FlowOutlet views={{ wait: AwaitAutomationView }} />
      </TaskProvider>,
    );
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe(automationMessages.instanceNotFound));
    expect(perceived()).not.toContain('session abc');
    task.dispose();
  });

  it('shows a failed load of the task list in plain words, the server message on the console once', async () => {
    const { fetch } = fakeFetch(() => [503, { error: { code: 'database-unavailable', message: 'PGlite is restarting.' } }]);
    render(<AutomationTaskList client={automationClient({ fetch, EventSource: null })} onOpen={() => undefined} />);
    expect((await screen.findByRole('alert')).textContent).toBe(automationMessages.unavailable);
    expect(perceived()).not.toContain('PGlite');
    expect(logged()).toHaveBeenCalledTimes(1);
    expect(logged().mock.calls[0]?.[0]).toMatchObject({ code: 'database-unavailable', message: 'PGlite is restarting.' });
  });
});

describe('docs/sync-client.md', () => {
  it('lists every automations message with its default', () => {
    const doc = readFileSync(join(import.meta.dirname, '../../docs/sync-client.md'), 'utf8');
    const rows = new Map([...doc.matchAll(/^\| `(\w+)(?:\([^)]*\))?` \| (.*?) \| .* \|$/gm)].map((m) => [m[1]!, m[2]!]));
    const m = automationMessages;
    const shown: Record<string, string> = {
      hours: m.hours('2.5'),
      openTask: m.openTask('Approve the order', 'Order fulfilment'),
      counts: m.counts(3, 12),
      perNode: m.perNode('Order fulfilment'),
      recent: m.recent('Order fulfilment'),
      inspectInstance: m.inspectInstance('i7'),
    };
    for (const [key, value] of Object.entries(m)) expect(rows.get(key), `docs/sync-client.md lists "${key}"`).toBe(typeof value === 'string' ? value : shown[key]);
  });
});
