// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { action, defineFlow, outcome, scaffold, startTask, type Task, VersionConflictError } from '../../src/core/index.ts';
import { memoryLocation, memoryStore } from '../../src/persist/index.ts';
import { defaultMessages, Field, FlowOutlet, FlowProgress, FlowView, StepForm, TaskProvider, type WayflowMessages, WayflowProvider } from '../../src/react/index.ts';
import { manualClock } from '../helpers/clock.ts';
import { perceived } from '../helpers/perceived.ts';
import { silenceConsoleErrors } from '../helpers/console-errors.ts';

silenceConsoleErrors();
const logged = () => vi.mocked(console.error);

const alerts = () => screen.getAllByRole('alert').map((el) => el.textContent);

const name = action({ id: 'name', title: 'Your name', schema: z.object({ name: z.string().min(1, 'Enter your name') }) });
const plan = scaffold({ id: 'plan', title: 'Pick a plan', transitions: 'choice', children: [action({ id: 'free', title: 'Free' }), action({ id: 'pro', title: 'Pro' })] });
let failing = true;
const check = action({
  id: 'check',
  title: 'Checking',
  auto: true,
  submit: () => {
    if (failing) throw new Error('credit bureau timed out after 30 s');
    return outcome.complete();
  },
});
const pay = action({
  id: 'pay',
  title: 'Pay',
  submit: () => {
    throw new Error('payments table is locked');
  },
});
const flow = defineFlow({ id: 'account', title: 'Open an account', children: [name, plan, check, pay] });

const views = {
  name: () => (
    <StepForm>
      <Field name="name" label="Name" />
    </StepForm>
  ),
};

function mount(task: Task, children: ReactNode = <FlowOutlet views={views} />) {
  render(
    <WayflowProvider>
      <TaskProvider task={task}>{children}</TaskProvider>
    </WayflowProvider>,
  );
}

describe('what the user is told when something fails', () => {
  it('shows a thrown submit in plain words; the developer message stays on state.error and goes to the console once', async () => {
    const task = await startTask(defineFlow({ id: 'account', title: 'Open an account', children: [pay] }));
    mount(task);
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    await waitFor(() => expect(alerts()).toEqual([defaultMessages.failed]));
    expect(perceived()).not.toMatch(/payments table|Flow "account"|task [\w-]{22}|retry the submit/);
    expect(task.state.error?.code).toBe('action-failed');
    expect(task.state.error?.message).toMatch(/Flow "account", task .*: step "pay" failed \(payments table is locked\)/);
    expect(logged()).toHaveBeenCalledTimes(1);
    expect(logged()).toHaveBeenCalledWith(task.state.error);
  });

  it('shows a failed automatic step in plain words, with Try again', async () => {
    failing = true;
    const task = await startTask(defineFlow({ id: 'account', title: 'Open an account', children: [check, pay] }));
    mount(task);
    expect((await screen.findByRole('alert')).textContent).toBe(defaultMessages.failed);
    expect(perceived()).not.toMatch(/credit bureau/);
    expect(logged()).toHaveBeenCalledWith(task.state.error);
    failing = false;
    fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Pay' })).toBeTruthy();
  });

  it('says a version conflict (the task changed in another tab) as such', async () => {
    const store = memoryStore();
    const task = await startTask(flow, { store, binder: 'me' });
    store.put = async (record, expected) => {
      throw new VersionConflictError(record.id, expected, expected + 1);
    };
    mount(task);
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Ada' } });
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    await waitFor(() => expect(alerts()).toEqual([defaultMessages.conflict]));
    expect(task.state.error?.code).toBe('version-conflict');
  });

  it('keeps a message the app wrote for its users (outcome.fail) as it is', async () => {
    const declined = action({ id: 'card', title: 'Card', submit: () => outcome.fail('Your bank declined the card.') });
    const task = await startTask(defineFlow({ id: 'pay', title: 'Pay', children: [declined] }));
    mount(task);
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    await waitFor(() => expect(alerts()).toEqual(['Your bank declined the card.']));
    expect(logged()).not.toHaveBeenCalled();
  });
});

/** Every default, marked so that a default string left on the page shows. */
const marked = Object.fromEntries(
  Object.entries(defaultMessages).map(([key, value]) => [key, typeof value === 'function' ? (...args: never[]) => `«${(value as (...a: never[]) => string)(...args)}»` : `«${value}»`]),
) as WayflowMessages;
const englishStrings = Object.values(defaultMessages).filter((value): value is string => typeof value === 'string');
/** Fails when an English default is perceived outside the marked (given) strings. */
const expectNoDefaults = (text: string) => {
  const unmarked = text.replace(/«[^«»]*»/g, '');
  for (const english of englishStrings) expect(unmarked).not.toContain(english);
};

describe('the messages given to WayflowProvider', () => {
  it('replace every string of the steps, the progress, the announcements and the end', async () => {
    failing = true;
    const task = await startTask(flow);
    const seen: string[] = [];
    const look = () => seen.push(perceived());
    render(
      <WayflowProvider messages={marked}>
        <TaskProvider task={task}>
          <FlowProgress />
          <FlowOutlet views={views} />
        </TaskProvider>
      </WayflowProvider>,
    );
    fireEvent.click(screen.getByRole('button', { name: '«Continue»' }));
    await waitFor(() => expect(alerts()).toEqual(['«Some fields need your attention.»', 'Enter your name']));
    expect(screen.getByRole('navigation', { name: '«Progress»' }).textContent).toContain('«Step 1 of 4»');
    look();
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Ada' } });
    fireEvent.click(screen.getByRole('button', { name: '«Continue»' }));
    await screen.findByRole('heading', { level: 1, name: 'Pick a plan' });
    expect(screen.getByRole('group', { name: '«Choose one»' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: '«Continue»' }));
    await waitFor(() => expect(alerts()).toEqual(['«Some fields need your attention.»', '«Choose one of the options.»']));
    expect(screen.getByText('«Step 2 of 4: Pick a plan»', { selector: '[aria-live]' })).toBeTruthy();
    look();
    fireEvent.click(screen.getByLabelText('Pro'));
    fireEvent.click(screen.getByRole('button', { name: '«Continue»' }));
    await screen.findByRole('heading', { level: 1, name: 'Pro' });
    expect(screen.getByRole('button', { name: '«Back»' })).toBeTruthy();
    look();
    fireEvent.click(screen.getByRole('button', { name: '«Continue»' }));
    await waitFor(() => expect(alerts()).toEqual(['«Something went wrong. Please try again.»']));
    look();
    failing = false;
    fireEvent.click(screen.getByRole('button', { name: '«Try again»' }));
    await screen.findByRole('heading', { level: 1, name: 'Pay' });
    await task.abort('changed my mind');
    await screen.findByRole('heading', { level: 1, name: '«Open an account: stopped»' });
    look();
    for (const text of seen) expectNoDefaults(text);
  });

  it('replace every string of loading and of the problem pages', async () => {
    const clock = manualClock();
    const store = memoryStore(clock.now);
    const expired = await startTask(flow, { store, binder: 'me', clock, idleTimeoutMs: 60_000 });
    await clock.advance(60_001);
    const page = (href: string) =>
      render(
        <WayflowProvider store={store} binder="me" location={memoryLocation(href)} tabs={false} clock={clock} idleTimeoutMs={60_000} messages={marked}>
          <FlowView flow={flow} views={views} />
        </WayflowProvider>,
      );
    const problems: [string, string, string][] = [
      [`?_id=${expired.id}`, '«This task expired»', '«It was left idle for too long, so what you entered was cleared.»'],
      ['?_id=AAAAAAAAAAAAAAAAAAAAAA', '«This task was not found»', '«It may have finished, or it belongs to another browser or account.»'],
      ['?_id=not-an-id', '«This link does not work»', '«The address is incomplete or was changed.»'],
    ];
    for (const [search, title, text] of problems) {
      page(`https://bank.test/open${search}`);
      expect(screen.getByRole('status').textContent).toBe('«Loading…»');
      await screen.findByRole('heading', { level: 1, name: title });
      expect(screen.getByRole('alert').textContent).toBe(text);
      expect(screen.getByRole('button', { name: '«Start over»' })).toBeTruthy();
      expectNoDefaults(perceived());
      cleanup();
    }
    store.get = async () => {
      throw new Error('IndexedDB: quota exceeded');
    };
    page(`https://bank.test/open?_id=${expired.id}`);
    await screen.findByRole('heading', { level: 1, name: '«This task could not be opened»' });
    expect(screen.getByRole('alert').textContent).toBe('«Something went wrong. Please try again.»');
  });
});
