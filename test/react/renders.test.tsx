// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { type ComponentProps, Profiler, type ReactNode, useLayoutEffect, useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { action, defineFlow, startTask, type Task } from '../../src/core/index.ts';
import { memoryStore } from '../../src/persist/index.ts';
import { Field, FlowOutlet, FlowProgress, StepForm, TaskProvider, useTask } from '../../src/react/index.ts';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const steps = ['contact', 'shipping', 'payment'] as const;
const flow = defineFlow({
  id: 'checkout',
  title: 'Checkout',
  children: steps.map((id) => action({ id, title: `Your ${id}`, schema: z.object({ value: z.string().min(1) }) })),
});
const views = Object.fromEntries(
  steps.map((id) => [
    id,
    () => (
      <StepForm>
        <Field name="value" label={`${id} value`} />
      </StepForm>
    ),
  ]),
);

/**
 * Renders the task's progress and outlet under a Profiler, and returns what each React commit
 * showed: the heading, with " (busy)" while Continue is disabled. Its onRender runs once per
 * commit of the tree; StrictMode (on in every test, see test/setup.ts) calls render functions
 * twice but commits once, so these are what a production build does.
 */
function renderCommits(task: Task, outlet: ComponentProps<typeof FlowOutlet>, children?: ReactNode): string[] {
  const commits: string[] = [];
  const picture = () => {
    const button = screen.queryByRole('button', { name: 'Continue' }) as HTMLButtonElement | null;
    return `${screen.queryByRole('heading', { level: 1 })?.textContent}${button?.disabled ? ' (busy)' : ''}`;
  };
  render(
    <Profiler id="flow" onRender={() => commits.push(picture())}>
      <TaskProvider task={task}>
        <FlowProgress />
        <FlowOutlet {...outlet} />
        {children}
      </TaskProvider>
    </Profiler>,
  );
  return commits;
}

/** A two-step flow whose first step's `submit` runs until `release()` is called (a step slower than 100 ms). */
function slowFlow() {
  let done: (value: undefined) => void = () => undefined;
  const slow = defineFlow({
    id: 'slow',
    title: 'Slow',
    children: [
      action({ id: 'contact', title: 'Your contact', schema: z.object({ value: z.string().min(1) }), submit: () => new Promise<undefined>((resolve) => (done = resolve)) }),
      action({ id: 'shipping', title: 'Your shipping' }),
    ],
  });
  return { slow, release: () => done(undefined) };
}

/** Submits `input` to the task in the commit that first draws it, before React subscribes (a click before the mount's effects ran). */
function SubmitBeforeSubscribe({ task, input }: { task: Task; input: unknown }) {
  useLayoutEffect(() => void task.submit(input), [task, input]);
  return null;
}

describe('renders per step', () => {
  it('draws a submitted step in one commit when it commits within 100 ms (never showing the form busy)', async () => {
    const task = await startTask(flow, { store: memoryStore() });
    const commits = renderCommits(task, { views, completed: <h1>Done</h1> });
    for (const [i, id] of steps.entries()) {
      await screen.findByRole('heading', { level: 1, name: `Your ${id}` });
      await waitFor(() => expect(task.state.pending).toBe(false));
      commits.length = 0;
      fireEvent.change(screen.getByLabelText(`${id} value`), { target: { value: `v${i}` } });
      fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
      const next = steps[i + 1] ? `Your ${steps[i + 1]}` : 'Done';
      await screen.findByRole('heading', { level: 1, name: next });
      await waitFor(() => expect(task.state.pending).toBe(false));
      // Let anything late (a second render, an effect's update) come in before counting.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(commits).toEqual([next]);
    }
    expect(task.state.data).toEqual({ contact: { value: 'v0' }, shipping: { value: 'v1' }, payment: { value: 'v2' } });
  });

  it('shows the form busy in one commit (progress and step together) when the step takes longer than 100 ms, then the next step in one', async () => {
    const { slow, release } = slowFlow();
    // jsdom runs all frame callbacks of a frame in one go; a browser checks microtasks (where React renders) after each,
    // as it does after each timer: without frames, each component told in its own callback would commit on its own.
    vi.stubGlobal('requestAnimationFrame', undefined);
    const task = await startTask(slow, { store: memoryStore() });
    const commits = renderCommits(task, { views: { contact: views.contact } });
    await screen.findByRole('heading', { level: 1, name: 'Your contact' });
    commits.length = 0;
    fireEvent.change(screen.getByLabelText('contact value'), { target: { value: 'v' } });
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    await waitFor(() => expect((screen.getByRole('button', { name: 'Continue' }) as HTMLButtonElement).disabled).toBe(true));
    release();
    await screen.findByRole('heading', { level: 1, name: 'Your shipping' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    vi.unstubAllGlobals();
    expect(commits).toEqual(['Your contact (busy)', 'Your shipping']);
  });

  it('never shows a later step busy because of an earlier one: a move over within 100 ms cancels its busy notice', async () => {
    const store = memoryStore();
    const put = store.put.bind(store);
    const releases: (() => void)[] = [];
    let held = false;
    store.put = async (record, expected) => {
      if (held) await new Promise<void>((release) => releases.push(release));
      return put(record, expected);
    };
    const task = await startTask(flow, { store });
    held = true;
    const commits = renderCommits(task, { views, completed: <h1>Done</h1> });
    await screen.findByRole('heading', { level: 1, name: 'Your contact' });
    commits.length = 0;
    // Each step's write takes 60 ms: the second one is still running 100 ms after the first was queued.
    for (const [i, id] of steps.slice(0, 2).entries()) {
      fireEvent.change(screen.getByLabelText(`${id} value`), { target: { value: `v${i}` } });
      fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
      await new Promise((resolve) => setTimeout(resolve, 60));
      releases.shift()!();
      await screen.findByRole('heading', { level: 1, name: `Your ${steps[i + 1]}` });
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(commits).toEqual(['Your shipping', 'Your payment']);
  });

  it('draws a step submitted before React subscribed in one commit, never busy, when it commits within 100 ms', async () => {
    const task = await startTask(flow, { store: memoryStore() });
    const input = { value: 'v0' };
    const commits = renderCommits(task, { views }, <SubmitBeforeSubscribe task={task} input={input} />);
    await screen.findByRole('heading', { level: 1, name: 'Your shipping' });
    await waitFor(() => expect(task.state.pending).toBe(false));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(commits).toEqual(['Your contact', 'Your shipping']);
  });

  it('shows a step submitted before React subscribed busy once it has run 100 ms, then the next step', async () => {
    const { slow, release } = slowFlow();
    const task = await startTask(slow, { store: memoryStore() });
    const input = { value: 'v' };
    const queued = Date.now();
    const commits = renderCommits(task, {}, <SubmitBeforeSubscribe task={task} input={input} />);
    await waitFor(() => expect((screen.getByRole('button', { name: 'Continue' }) as HTMLButtonElement).disabled).toBe(true));
    expect(Date.now() - queued).toBeGreaterThanOrEqual(95);
    release();
    await screen.findByRole('heading', { level: 1, name: 'Your shipping' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(commits).toEqual(['Your contact', 'Your contact (busy)', 'Your shipping']);
  });

  it('saves a draft in one commit, never showing the form busy', async () => {
    const task = await startTask(flow, { store: memoryStore() });
    let commits = 0;
    render(
      <Profiler id="flow" onRender={() => commits++}>
        <TaskProvider task={task}>
          <FlowProgress />
          <FlowOutlet views={views} />
        </TaskProvider>
      </Profiler>,
    );
    await screen.findByRole('heading', { level: 1, name: 'Your contact' });
    commits = 0;
    fireEvent.change(screen.getByLabelText('contact value'), { target: { value: 'half typed' } });
    await waitFor(() => expect(task.state.step?.draft).toEqual({ value: 'half typed' }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(commits).toBe(1);
    expect((screen.getByRole('button', { name: 'Continue' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('gives a step one subscription, held by the provider, whatever its progress, form, message and fields read', async () => {
    const task = await startTask(flow, { store: memoryStore() });
    const subscribe = task.subscribe.bind(task);
    let live = 0;
    task.subscribe = (listener) => {
      live++;
      const stop = subscribe(listener);
      return () => {
        live--;
        return stop();
      };
    };
    render(
      <TaskProvider task={task}>
        <FlowProgress />
        <FlowOutlet views={views} completed={<h1>Done</h1>} />
      </TaskProvider>,
    );
    for (const [i, id] of steps.entries()) {
      await screen.findByRole('heading', { level: 1, name: `Your ${id}` });
      expect(live).toBe(1);
      fireEvent.change(screen.getByLabelText(`${id} value`), { target: { value: `v${i}` } });
      fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    }
    await screen.findByRole('heading', { level: 1, name: 'Done' });
    expect(live).toBe(1);
  });

  it('keeps the heading in the page from step to step and focuses it, with the view and its inputs mounted anew', async () => {
    const task = await startTask(flow, { store: memoryStore() });
    render(
      <TaskProvider task={task}>
        <FlowOutlet views={views} />
      </TaskProvider>,
    );
    const heading = await screen.findByRole('heading', { level: 1, name: 'Your contact' });
    const input = screen.getByLabelText('contact value');
    fireEvent.change(input, { target: { value: 'v0' } });
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Your shipping' })).toBe(heading);
    await waitFor(() => expect(document.activeElement).toBe(heading));
    expect(input.isConnected).toBe(false);
    expect((screen.getByLabelText('shipping value') as HTMLInputElement).value).toBe('');
  });

  it('asks for a frame to move focus only when the heading does not have it: a heading focused since the last step keeps it', async () => {
    const frames = vi.fn((run: FrameRequestCallback) => setTimeout(() => run(performance.now()), 0));
    vi.stubGlobal('requestAnimationFrame', frames);
    const task = await startTask(flow, { store: memoryStore() });
    render(
      <TaskProvider task={task}>
        <FlowOutlet views={views} completed={<h1>Done</h1>} />
      </TaskProvider>,
    );
    const heading = await screen.findByRole('heading', { level: 1, name: 'Your contact' });
    const submit = async (id: string, value: string, focusInput: boolean, next: string) => {
      const input = screen.getByLabelText(`${id} value`);
      if (focusInput) input.focus();
      fireEvent.change(input, { target: { value } });
      fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
      const shown = await screen.findByRole('heading', { level: 1, name: next });
      await waitFor(() => expect(document.activeElement).toBe(shown));
      await waitFor(() => expect(task.state.pending).toBe(false));
      return shown;
    };
    // The first step shown: focus moves to its heading, in a frame.
    expect(await submit('contact', 'v0', false, 'Your shipping')).toBe(heading);
    expect(frames).toHaveBeenCalledTimes(1);
    // The heading still has focus (the click did not take it): it keeps it, with no frame asked for.
    expect(await submit('shipping', 'v1', false, 'Your payment')).toBe(heading);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(frames).toHaveBeenCalledTimes(1);
    expect(document.activeElement).toBe(heading);
    // The user typed in the form: its input goes with the step, and focus moves to the new heading of the end.
    const end = await submit('payment', 'v2', true, 'Done');
    expect(end).not.toBe(heading);
    expect(frames).toHaveBeenCalledTimes(2);
  });

  it('moves focus back to the heading after the user focused an input of the step', async () => {
    const frames = vi.fn((run: FrameRequestCallback) => setTimeout(() => run(performance.now()), 0));
    vi.stubGlobal('requestAnimationFrame', frames);
    const task = await startTask(flow, { store: memoryStore() });
    render(
      <TaskProvider task={task}>
        <FlowOutlet views={views} />
      </TaskProvider>,
    );
    const heading = await screen.findByRole('heading', { level: 1, name: 'Your contact' });
    for (const [i, id] of steps.slice(0, 2).entries()) {
      const input = screen.getByLabelText(`${id} value`);
      input.focus();
      fireEvent.change(input, { target: { value: `v${i}` } });
      fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
      await screen.findByRole('heading', { level: 1, name: `Your ${steps[i + 1]}` });
      await waitFor(() => expect(document.activeElement).toBe(heading));
      expect(frames).toHaveBeenCalledTimes(i + 1);
    }
  });

  it('keeps one subscription per task however often a component re-renders', async () => {
    const task = await startTask(flow, { store: memoryStore() });
    const subscribe = task.subscribe.bind(task);
    let subscriptions = 0;
    let unsubscriptions = 0;
    task.subscribe = (listener) => {
      subscriptions++;
      const stop = subscribe(listener);
      return () => {
        unsubscriptions++;
        return stop();
      };
    };
    function Counter() {
      const [clicks, setClicks] = useState(0);
      const { step } = useTask(task);
      return (
        <button type="button" onClick={() => setClicks(clicks + 1)}>
          {`${step?.id} ${clicks}`}
        </button>
      );
    }
    render(<Counter />);
    await screen.findByText('contact 0');
    // StrictMode mounts effects twice: one subscription is dropped and made again, once.
    const afterMount = subscriptions - unsubscriptions;
    const made = subscriptions;
    for (let i = 1; i <= 5; i++) {
      fireEvent.click(screen.getByRole('button'));
      await screen.findByText(`contact ${i}`);
    }
    expect(subscriptions).toBe(made);
    expect(subscriptions - unsubscriptions).toBe(afterMount);
    expect(afterMount).toBe(1);
  });
});
