// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { action, defineFlow, outcome, scaffold, startTask, type Task } from '../../src/core/index.ts';
import { memoryStore } from '../../src/persist/index.ts';
import { Field, FlowOutlet, FlowProgress, StepForm, type StepViewProps, TaskProvider, useTask } from '../../src/react/index.ts';

afterEach(cleanup);

const email = action({ id: 'email', title: 'Your email', schema: z.object({ email: z.email('Enter a valid email') }) });
const pay = action({
  id: 'pay',
  title: 'Pay',
  schema: z.object({ card: z.string().min(4, 'Too short') }),
  submit: async (_d, { card }) => (card === '0000' ? outcome.fail('Card declined', { card: ['Declined by the bank'] }) : outcome.complete({ paid: card })),
});
const plan = scaffold({ id: 'plan', title: 'Pick a plan', transitions: 'choice', children: [action({ id: 'free', title: 'Free' }), action({ id: 'pro', title: 'Pro' })] });
const flow = defineFlow({ id: 'signup', title: 'Sign up', children: [email, plan, pay] });

const views = {
  email: () => (
    <StepForm>
      <Field name="email" label="Email" type="email" />
    </StepForm>
  ),
  pay: ({ step }: StepViewProps) => (
    <StepForm submitLabel="Confirm and pay">
      <p>Visit {step.visit}</p>
      <Field name="card" label="Card number" />
    </StepForm>
  ),
};

async function mount(task?: Task) {
  const t = task ?? (await startTask(flow));
  render(
    <TaskProvider task={t}>
      <FlowProgress />
      <FlowOutlet views={views} completed={<h1>Welcome aboard</h1>} />
    </TaskProvider>,
  );
  return t;
}

describe('FlowOutlet', () => {
  it('renders the step with exactly one h1 holding the action title', async () => {
    await mount();
    expect(screen.getAllByRole('heading', { level: 1 }).map((h) => h.textContent)).toEqual(['Your email']);
    expect(screen.getByLabelText('Email')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Continue' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Back' })).toBeNull();
  });

  it('shows field errors linked to their inputs, and keeps what was typed', async () => {
    await mount();
    fireEvent.change(screen.getByLabelText('Email'), { target: { value: 'nope' } });
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    const alert = await screen.findByText('Enter a valid email');
    expect(alert.getAttribute('role')).toBe('alert');
    const input = screen.getByLabelText('Email');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(input.getAttribute('aria-describedby')).toBe(alert.id);
    expect((input as HTMLInputElement).value).toBe('nope');
  });

  it('moves through a choice, announces each step and moves focus to its heading', async () => {
    await mount();
    fireEvent.change(screen.getByLabelText('Email'), { target: { value: 'ada@example.com' } });
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    const heading = await screen.findByRole('heading', { level: 1, name: 'Pick a plan' });
    await waitFor(() => expect(document.activeElement).toBe(heading));
    expect(screen.getByRole('status').textContent).toBe('Step 2 of 4: Pick a plan');
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    expect((await screen.findByText('Choose one of the options.', { selector: '[role=alert]:not(.wayflow-message)' })).id).toBe('wf-choice-error');
    // The button is disabled while its own submission is in flight, as a person sees it.
    await waitFor(() => expect((screen.getByRole('button', { name: 'Continue' }) as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(screen.getByLabelText('Pro'));
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    await screen.findByRole('heading', { level: 1, name: 'Pro' });
    expect(screen.getByRole('status').textContent).toBe('Step 3 of 4: Pro');
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    await screen.findByRole('heading', { level: 1, name: 'Pay' });
    expect(screen.getByRole('status').textContent).toBe('Step 4 of 4: Pay');
    expect(screen.getByRole('button', { name: 'Confirm and pay' })).toBeTruthy();
  });

  it('shows a failed submission as an alert and stays on the step', async () => {
    const task = await startTask(flow);
    await task.submit({ email: 'a@b.co' });
    await task.submit({ choice: 'free' });
    await task.submit();
    await mount(task);
    fireEvent.change(screen.getByLabelText('Card number'), { target: { value: '0000' } });
    fireEvent.click(screen.getByRole('button', { name: 'Confirm and pay' }));
    expect(await screen.findByText('Card declined')).toBeTruthy();
    expect(screen.getByText('Declined by the bank').getAttribute('role')).toBe('alert');
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Pay');
  });

  it('goes back with the Back button, prefilled, and forward again by submitting', async () => {
    const task = await startTask(flow);
    await task.submit({ email: 'ada@example.com' });
    await mount(task);
    fireEvent.click(await screen.findByRole('button', { name: 'Back' }));
    await screen.findByRole('heading', { level: 1, name: 'Your email' });
    expect((screen.getByLabelText('Email') as HTMLInputElement).value).toBe('ada@example.com');
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    await screen.findByRole('heading', { level: 1, name: 'Pick a plan' });
  });

  it('renders the completion view when the flow is done', async () => {
    const task = await startTask(flow);
    await task.submit({ email: 'a@b.co' });
    await task.submit({ choice: 'pro' });
    await task.submit();
    await mount(task);
    fireEvent.change(screen.getByLabelText('Card number'), { target: { value: '4242' } });
    fireEvent.click(screen.getByRole('button', { name: 'Confirm and pay' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Welcome aboard' })).toBeTruthy();
    expect(task.state.data.paid).toBe('4242');
  });

  it('disables the buttons while a submission is pending', async () => {
    let release = () => {};
    const slow = action({ id: 'slow', title: 'Slow', submit: () => new Promise<void>((resolve) => { release = resolve; }) });
    const task = await startTask(defineFlow({ id: 'f', title: 'F', children: [slow, action({ id: 'next', title: 'Next' })] }));
    await mount(task);
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    await waitFor(() => expect((screen.getByRole('button', { name: 'Continue' }) as HTMLButtonElement).disabled).toBe(true));
    act(() => release());
    await screen.findByRole('heading', { level: 1, name: 'Next' });
  });
});

function Probe() {
  const t = useTask();
  return (
    <div>
      <span data-testid="step">{t.step?.id}</span>
      <button type="button" onClick={() => t.submit({ email: 'x@y.zz' })}>go</button>
      <button type="button" onClick={() => t.back()}>back</button>
      <button type="button" onClick={() => t.abort('bye')}>stop</button>
      <span data-testid="status">{t.status}:{String(t.reason)}</span>
    </div>
  );
}

function Lost() {
  useTask();
  return null;
}

describe('useTask', () => {
  it('exposes the state and the moves of the task', async () => {
    const task = await startTask(flow);
    render(
      <TaskProvider task={task}>
        <Probe />
      </TaskProvider>,
    );
    fireEvent.click(screen.getByText('go'));
    await waitFor(() => expect(screen.getByTestId('step').textContent).toBe('plan'));
    fireEvent.click(screen.getByText('back'));
    await waitFor(() => expect(screen.getByTestId('step').textContent).toBe('email'));
    fireEvent.click(screen.getByText('back'));
    await waitFor(() => expect(task.state.pending).toBe(false));
    expect(screen.getByTestId('step').textContent).toBe('email');
    fireEvent.click(screen.getByText('stop'));
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('aborted:bye'));
  });

  it('explains itself when used outside a task', () => {
    expect(() => render(<Lost />)).toThrow(/needs a task; render it inside <FlowView> or <TaskProvider task=\{…\}>, or pass the task/);
  });
});

describe('focus at the end of a flow', () => {
  it('takes a click on Continue while a draft is still being saved (autosave never swallows a submit)', async () => {
    const store = memoryStore();
    let slow = false;
    let saving = false;
    const put = store.put.bind(store);
    store.put = async (record, expected) => {
      if (slow) {
        saving = true;
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      return put(record, expected);
    };
    const task = await mount(await startTask(flow, { store }));
    slow = true;
    fireEvent.change(screen.getByLabelText('Email'), { target: { value: 'ada@example.com' } });
    await waitFor(() => expect(saving).toBe(true), { timeout: 2000 });
    expect(task.state.pending).toBe(false);
    const button = screen.getByRole('button', { name: 'Continue' }) as HTMLButtonElement;
    expect(button.disabled).toBe(false);
    fireEvent.click(button);
    await screen.findByRole('heading', { level: 1, name: 'Pick a plan' });
    expect(task.state.data).toEqual({ email: { email: 'ada@example.com' } });
  });

  it('moves to the heading of the completion view', async () => {
    const task = await startTask(defineFlow({ id: 'f', title: 'F', children: [action({ id: 'only', title: 'Only step' })] }));
    render(
      <TaskProvider task={task}>
        <FlowOutlet completed={<h1>All done</h1>} />
      </TaskProvider>,
    );
    const stepHeading = screen.getByRole('heading', { level: 1, name: 'Only step' });
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    const done = await screen.findByRole('heading', { level: 1, name: 'All done' });
    // A heading of its own: the step's (focused) heading is not reused and stripped of its tabindex.
    expect(done).not.toBe(stepHeading);
    expect(stepHeading.isConnected).toBe(false);
    await waitFor(() => expect(document.activeElement).toBe(done));
    expect(screen.getByRole('status').textContent).toBe('F: done');
  });
});

describe('a waiting step that repeats', () => {
  it('keeps its view mounted and focus where the user put it when an automatic step runs again', async () => {
    let checks = 0;
    const waiting = action({
      id: 'waiting',
      title: 'Waiting for approval',
      auto: true,
      submit: () => {
        checks += 1;
        return checks < 3 ? outcome.suspendAndRepeat(Date.now() + 60_000, { checks }) : outcome.complete({ approved: true });
      },
    });
    const task = await startTask(defineFlow({ id: 'approval', title: 'Approval', children: [waiting, action({ id: 'done', title: 'Approved' })] }));
    const views = {
      waiting: ({ task: bound }: StepViewProps) => (
        <p>
          Checked {String((bound.data as { checks?: number }).checks ?? 0)} times <button type="button">Cancel order</button>
        </p>
      ),
    };
    render(
      <TaskProvider task={task}>
        <FlowOutlet views={views} />
      </TaskProvider>,
    );
    await screen.findByRole('heading', { level: 1, name: 'Waiting for approval' });
    const section = screen.getByRole('region', { name: 'Waiting for approval' });
    const cancel = screen.getByRole('button', { name: 'Cancel order' });
    cancel.focus();
    const visit = task.state.step!.visit;
    await act(() => task.resume());
    expect(task.state.step).toMatchObject({ id: 'waiting', visit: visit + 1 });
    await screen.findByText(/Checked 2 times/);
    expect(screen.getByRole('region', { name: 'Waiting for approval' })).toBe(section);
    expect(document.activeElement).toBe(cancel);
    await act(() => task.resume());
    const next = await screen.findByRole('heading', { level: 1, name: 'Approved' });
    await waitFor(() => expect(document.activeElement).toBe(next));
  });
});
