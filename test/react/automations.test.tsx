// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { action, defineFlow, startTask } from '../../src/core/index.ts';
import { Field, FlowOutlet, StepForm, TaskProvider, useTask } from '../../src/react/index.ts';
import {
  AutomationDashboard,
  AutomationFormTask,
  AutomationInstance,
  AutomationTaskList,
  AwaitAutomationView,
  automationMessages,
  useAutomationStatus,
  useFollowAutomations,
} from '../../src/react/automations/index.ts';
import { ProcessMap } from '../../src/react/map/index.ts';
import { type AutomationClient, automationClient, automationForm, awaitAutomation, SyncError } from '../../src/sync/index.ts';
import type { DashboardView, HistoryEntryView, InstanceStatus, OpenFormSummary } from '../../src/sync/protocol.ts';
import { fakeClient, fakeFetch, statusOf } from '../sync/fakes.ts';

afterEach(cleanup);

const summary = (over: Partial<OpenFormSummary> = {}): OpenFormSummary => ({
  instanceId: 'i1',
  taskId: 4,
  node: 'approve',
  description: 'Approve the order',
  since: 0,
  automation: 'OrderFulfilment',
  verboseName: 'Order fulfilment',
  hoursWaiting: 2.5,
  ...over,
});

/** A client whose methods are the given ones, the rest rejecting. */
function clientWith(methods: Partial<AutomationClient>): AutomationClient {
  const missing = async () => {
    throw new SyncError('not-faked', 'not faked', 500);
  };
  return { forms: missing, form: missing, submitForm: missing, start: missing, status: missing, send: missing, dashboard: missing, inspect: missing, map: missing, mapInstances: missing, watch: () => () => undefined, watchMap: () => () => undefined, ...methods };
}

describe('AutomationTaskList', () => {
  it('lists the open forms with hours waiting and an Open button', async () => {
    const onOpen = vi.fn();
    const forms = [summary(), summary({ instanceId: 'i2', taskId: 7, description: '', node: 'pack', hoursWaiting: 12 })];
    render(<AutomationTaskList client={clientWith({ forms: async () => forms })} onOpen={onOpen} />);
    const table = await screen.findByRole('table', { name: 'Open tasks' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map((r) => within(r).getAllByRole('cell').slice(0, 3).map((c) => c.textContent))).toEqual([
      ['Order fulfilment', 'Approve the order', '2.5 h'],
      ['Order fulfilment', 'pack', '12.0 h'],
    ]);
    expect(within(table).getAllByRole('columnheader').map((h) => h.textContent)).toEqual(['Automation', 'Task', 'Waiting', 'Action']);
    fireEvent.click(screen.getByRole('button', { name: 'Open pack (Order fulfilment)' }));
    expect(onOpen).toHaveBeenCalledWith(forms[1]);
  });

  it('reads the list again every refreshMs, so a new task appears by itself', async () => {
    let forms: OpenFormSummary[] = [];
    render(<AutomationTaskList client={clientWith({ forms: async () => forms })} onOpen={() => undefined} refreshMs={50} />);
    expect(await screen.findByText('No open tasks.')).toBeTruthy();
    forms = [summary()];
    const table = await screen.findByRole('table', { name: 'Open tasks' });
    expect(within(table).getAllByRole('row')).toHaveLength(2);
  });

  it('shows an empty state', async () => {
    render(<AutomationTaskList client={clientWith({ forms: async () => [] })} onOpen={() => undefined} />);
    expect(await screen.findByText('No open tasks.')).toBeTruthy();
    expect(screen.queryByRole('table')).toBeNull();
  });

  it('shows a failure as an alert (through the real client)', async () => {
    const { fetch } = fakeFetch(() => [503, { error: { code: 'unavailable', message: 'The server is busy; try again soon.' } }]);
    render(<AutomationTaskList client={automationClient({ fetch, EventSource: null, retries: 0 })} onOpen={() => undefined} />);
    expect((await screen.findByRole('alert')).textContent).toBe(automationMessages.unavailable);
  });
});

const dashboard: DashboardView = {
  automations: [
    {
      name: 'OrderFulfilment',
      verboseName: 'Order fulfilment',
      running: 3,
      finished: 12,
      nodes: [
        { node: 'approve', count: 2 },
        { node: 'ship', count: 1 },
      ],
      graph: {
        nodes: [
          { id: 'approve', label: 'Approve the order', kind: 'form' },
          { id: 'ship', label: 'Ship', kind: 'execute' },
        ],
        edges: [{ from: 'approve', to: 'ship' }],
      },
      recent: [statusOf('v1', { id: 'i7' })],
    },
    { name: 'Refund', verboseName: 'Refund', running: 0, finished: 1, nodes: [], graph: { nodes: [], edges: [] }, recent: [] },
  ],
};

describe('AutomationDashboard', () => {
  it('shows each automation with its counts and its instances per node', async () => {
    const onInspect = vi.fn();
    render(<AutomationDashboard client={clientWith({ dashboard: async () => dashboard })} onInspect={onInspect} />);
    expect((await screen.findAllByRole('heading', { level: 2 })).map((h) => h.textContent)).toEqual(['Order fulfilment', 'Refund']);
    const order = screen.getByRole('region', { name: 'Order fulfilment' });
    expect(within(order).getByText('3 running, 12 finished')).toBeTruthy();
    const perNode = within(order).getByRole('table', { name: 'Order fulfilment: running instances per node' });
    expect(within(perNode).getAllByRole('row').slice(1).map((r) => r.textContent)).toEqual(['approve2', 'ship1']);
    fireEvent.click(within(order).getByRole('button', { name: 'Inspect i7' }));
    expect(onInspect).toHaveBeenCalledWith('i7');
  });

  it("draws each automation's definition with its running instances per node through the map it is given (ProcessMap)", async () => {
    render(<AutomationDashboard client={clientWith({ dashboard: async () => dashboard })} map={(props) => <ProcessMap {...props} />} />);
    const order = await screen.findByRole('region', { name: 'Order fulfilment' });
    const map = within(order).getByRole('img', { name: 'Order fulfilment' });
    expect(within(map).getByRole('img', { name: 'Approve the order: 2 waiting, 0 passed, 0 errors' })).toBeTruthy();
    expect(within(map).getByRole('img', { name: 'Ship: 1 waiting, 0 passed, 0 errors' })).toBeTruthy();
  });

  it('explains a 403', async () => {
    const { fetch } = fakeFetch(() => [403, { error: { code: 'forbidden', message: 'Forbidden' } }]);
    render(<AutomationDashboard client={automationClient({ fetch, EventSource: null })} />);
    expect((await screen.findByRole('alert')).textContent).toBe('You need the automations.view permission to see the dashboard.');
  });
});

describe('AutomationInstance and useAutomationStatus', () => {
  it('shows the status, the nodes and the history, and follows pushed statuses', async () => {
    let push: (s: InstanceStatus) => void = () => undefined;
    let current = statusOf('v1', { id: 'i7' });
    const history: HistoryEntryView[] = [{ taskId: 1, node: 'start', created: 0, finished: 1, message: null, completedBy: null }];
    const inspect = vi.fn(async () => ({ instance: current, history: [...history], graph: { nodes: [], edges: [] }, counts: {} }));
    const stop = vi.fn();
    const client = clientWith({
      inspect,
      watch: (_id, onStatus) => {
        push = onStatus;
        return stop;
      },
    });
    const { unmount } = render(<AutomationInstance client={client} instanceId="i7" />);
    expect((await screen.findByRole('heading', { level: 2 })).textContent).toBe('Order fulfilment i7');
    const table = screen.getByRole('table', { name: 'History' });
    expect(within(table).getAllByRole('row')).toHaveLength(2);
    expect(screen.getByText('approve')).toBeTruthy();
    current = statusOf('v2', { id: 'i7', nodes: ['ship'] });
    history.push({ taskId: 2, node: 'approve', created: 1, finished: 2, message: 'approved', completedBy: 'ada' });
    act(() => push(current));
    await waitFor(() => expect(within(screen.getByRole('table', { name: 'History' })).getAllByRole('row')).toHaveLength(3));
    expect(screen.getByText('ship')).toBeTruthy();
    expect(screen.getByText('ada')).toBeTruthy();
    unmount();
    expect(stop).toHaveBeenCalled();
  });

  it("draws the automation's definition with the instance's counts per node through the map it is given (ProcessMap)", async () => {
    const graph = {
      nodes: [
        { id: 'start', label: 'Order received', kind: 'execute' },
        { id: 'approve', label: 'Approve the order', kind: 'form' },
      ],
      edges: [{ from: 'start', to: 'approve' }],
    };
    const counts = { start: { waiting: 0, passed: 1, errors: 0 }, approve: { waiting: 1, passed: 0, errors: 0 } };
    const client = clientWith({ inspect: async () => ({ instance: statusOf('v1', { id: 'i7' }), history: [], graph, counts }) });
    render(<AutomationInstance client={client} instanceId="i7" map={(props) => <ProcessMap {...props} />} />);
    const map = await screen.findByRole('img', { name: 'Order fulfilment' });
    expect(within(map).getByRole('img', { name: 'Order received: 0 waiting, 1 passed, 0 errors' })).toBeTruthy();
    expect(within(map).getByRole('img', { name: 'Approve the order: 1 waiting, 0 passed, 0 errors' })).toBeTruthy();
    const table = screen.getByRole('table', { name: 'Order fulfilment' });
    expect(within(table).getAllByRole('row').map((row) => row.textContent)).toEqual(['StepWaiting nowPassedErrors', 'Order received010', 'Approve the order100']);
  });

  it('useAutomationStatus re-renders with each status', async () => {
    let push: (s: InstanceStatus) => void = () => undefined;
    const client = clientWith({
      watch: (_id, onStatus) => {
        push = onStatus;
        return () => undefined;
      },
    });
    function Live() {
      const { status } = useAutomationStatus(client, 'i1');
      return <p>{status ? status.nodes.join(', ') : 'waiting'}</p>;
    }
    render(<Live />);
    expect(screen.getByText('waiting')).toBeTruthy();
    act(() => push(statusOf('v2', { nodes: ['pack', 'bill'] })));
    expect(await screen.findByText('pack, bill')).toBeTruthy();
  });
});

describe('AutomationFormTask', () => {
  const schema = z.object({ decision: z.enum(['approve', 'reject'], 'Pick approve or reject'), note: z.string().optional() });
  const detail = { ...summary(), data: { order: { total: 30 } } };

  function ApproveView() {
    const { data } = useTask();
    return (
      <StepForm submitLabel="Send">
        <p>Total: {(data.order as { total: number }).total}</p>
        <Field name="decision" label="Decision" />
        <Field name="note" label="Note" />
      </StepForm>
    );
  }

  it('shows the 422 field errors of the server next to the right input', async () => {
    const { fetch, requests } = fakeFetch((_url, request) => {
      if (request.method === 'GET') return [200, { form: detail }];
      return [422, { error: { code: 'invalid-input', message: 'Some fields need your attention.', fields: { note: ['Say why you reject'] } } }];
    });
    const client = automationClient({ fetch, EventSource: null });
    const flow = automationForm({ id: 'approve', title: 'Approve the order', schema, client });
    render(<AutomationFormTask client={client} form={{ instanceId: 'i1', taskId: 4 }} flow={flow} views={{ approve: ApproveView }} />);
    expect((await screen.findByRole('heading', { level: 1 })).textContent).toBe('Approve the order');
    expect(screen.getByText('Total: 30')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Decision'), { target: { value: 'reject' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    const error = await screen.findByText('Say why you reject');
    expect(error.getAttribute('role')).toBe('alert');
    const note = screen.getByLabelText('Note');
    expect(note.getAttribute('aria-invalid')).toBe('true');
    expect(note.getAttribute('aria-describedby')).toBe(error.id);
    expect(screen.getByLabelText('Decision').getAttribute('aria-invalid')).toBeNull();
    expect(requests.at(-1)).toMatchObject({ method: 'POST', url: '/automations/forms/i1/4', body: { input: { decision: 'reject', note: '' } } });
  });

  it('validates locally with the same schema, and completes on success', async () => {
    const submitForm = vi.fn(async () => statusOf('v2'));
    const client = clientWith({ form: async () => detail, submitForm });
    const flow = automationForm({ id: 'approve', title: 'Approve the order', schema, client });
    render(<AutomationFormTask client={client} form={detail} flow={flow} views={{ approve: ApproveView }} completed={<h1>Thank you</h1>} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Send' }));
    expect((await screen.findByText('Pick approve or reject')).getAttribute('role')).toBe('alert');
    expect(submitForm).not.toHaveBeenCalled();
    fireEvent.change(screen.getByLabelText('Decision'), { target: { value: 'approve' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Thank you' })).toBeTruthy();
    expect(submitForm).toHaveBeenCalledWith('i1', 4, { decision: 'approve', note: '' });
  });

  it('shows a 409 (processed meanwhile) as the step message, and a missing form as an alert', async () => {
    const client = clientWith({ form: async () => detail, submitForm: async () => Promise.reject(new SyncError('form-closed', 'closed', 409)) });
    const flow = automationForm({ id: 'approve', title: 'Approve the order', schema, client });
    render(<AutomationFormTask client={client} form={detail} flow={flow} views={{ approve: ApproveView }} />);
    fireEvent.change(await screen.findByLabelText('Decision'), { target: { value: 'approve' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe(automationMessages.formClosed));
    cleanup();
    const gone = clientWith({ form: async () => Promise.reject(new SyncError('form-not-found', 'No open form 4 of instance i1.', 404)) });
    render(<AutomationFormTask client={gone} form={detail} flow={flow} />);
    expect((await screen.findByRole('alert')).textContent).toBe(automationMessages.formNotFound);
  });
});

describe('AwaitAutomationView and useFollowAutomations', () => {
  const flowFor = (client: Pick<AutomationClient, 'status'>) =>
    defineFlow({
      id: 'order',
      title: 'Order',
      children: [
        awaitAutomation({ id: 'wait', title: 'Waiting for the warehouse', client, instance: () => 'i1', until: (s) => s.nodes.includes('ship'), pollMs: 3_600_000 }),
        action({ id: 'done', title: 'On its way' }),
      ],
    });

  it('shows what the automation does and moves on when a pushed status satisfies the step', async () => {
    const fake = fakeClient();
    const task = await startTask(flowFor(fake.client));
    render(
      <TaskProvider task={task}>
        <FlowOutlet views={{ wait: AwaitAutomationView }} />
      </TaskProvider>,
    );
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Waiting for the warehouse');
    expect(screen.getByText('Waiting for the automation…')).toBeTruthy();
    await waitFor(() => expect(fake.watching()).toEqual(['i1']));
    act(() => fake.push(statusOf('v2', { nodes: ['pack'] })));
    expect(await screen.findByText('Order fulfilment: pack')).toBeTruthy();
    act(() => fake.push(statusOf('v3', { nodes: ['ship'] })));
    expect(await screen.findByRole('heading', { level: 1, name: 'On its way' })).toBeTruthy();
    expect(fake.watching()).toEqual([]);
    task.dispose();
  });

  it('shows a failed check with Try again', async () => {
    const fake = fakeClient(statusOf('v1', { status: 'error' }));
    const task = await startTask(flowFor(fake.client));
    render(
      <TaskProvider task={task}>
        <FlowOutlet views={{ wait: AwaitAutomationView }} />
      </TaskProvider>,
    );
    expect((await screen.findByRole('alert')).textContent).toBe('Something went wrong. Please try again.');
    expect(task.state.error?.message).toContain('stopped with an error');
    expect(screen.getByRole('button', { name: 'Try again' })).toBeTruthy();
    task.dispose();
  });

  it('useFollowAutomations resumes the provided task', async () => {
    const fake = fakeClient();
    const task = await startTask(flowFor(fake.client));
    function Follow() {
      useFollowAutomations(fake.client);
      return <p>{useTask().step?.title}</p>;
    }
    const { unmount } = render(
      <TaskProvider task={task}>
        <Follow />
      </TaskProvider>,
    );
    await waitFor(() => expect(fake.watching()).toEqual(['i1']));
    act(() => fake.push(statusOf('v2', { nodes: ['ship'] })));
    expect(await screen.findByText('On its way')).toBeTruthy();
    unmount();
    expect(fake.watching()).toEqual([]);
    task.dispose();
  });
});
