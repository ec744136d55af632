// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { type ReactNode, useLayoutEffect, useState } from 'react';
import {
  type Location,
  MemoryRouter,
  type NavigateFunction,
  Route,
  Router,
  Routes,
  UNSAFE_createMemoryHistory as createMemoryHistory,
  useLocation,
  useNavigate,
} from 'react-router';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { action, defineFlow, type Flow, orGoTo, outcome, requiredState, scaffold, signedIn, startTask, type Task } from '../../src/core/index.ts';
import { memoryStore, type TabOptions } from '../../src/persist/index.ts';
import { Field, StepForm, type StepViews, useTask, WayflowProvider } from '../../src/react/index.ts';
import { FlowLink, FlowRoutes } from '../../src/router/index.ts';
import { fakeLocks } from '../persist/fake-locks.ts';

afterEach(cleanup);

const name = action({ id: 'name', title: 'Your name', schema: z.object({ name: z.string().min(1) }) });
const card = action({ id: 'card', title: 'Card', submit: () => outcome.complete({ method: 'card' }) });
const bank = action({ id: 'bank', title: 'Bank', submit: () => outcome.complete({ method: 'bank' }) });
const method = scaffold({ id: 'method', path: 'pay', title: 'How to pay', transitions: 'choice', children: [card, bank] });
const review = action({ id: 'review', title: 'Review', preconditions: [orGoTo(requiredState('method'), 'method')] });
const flow = defineFlow({ id: 'order', title: 'Order', children: [name, method, review] });

const views = {
  name: () => (
    <StepForm>
      <Field name="name" label="Name" />
    </StepForm>
  ),
  review: () => (
    <StepForm submitLabel="Place order">
      <FlowLink step="name">Change name</FlowLink>
    </StepForm>
  ),
};

let go: NavigateFunction = () => undefined;
const seen: string[] = [];
function Probe() {
  const location = useLocation();
  go = useNavigate();
  if (seen.at(-1) !== location.pathname) seen.push(location.pathname);
  return <output data-testid="url">{`${location.pathname}${location.search}`}</output>;
}

type RouterComponent = (props: { children: ReactNode }) => ReactNode;

/** Renders `mounted` at `/<its id>/*` with the address probe, in a MemoryRouter at `path` unless `Router` is given. */
function app(
  path: string,
  store = memoryStore(),
  { mounted = flow, stepViews = views as StepViews, Router, tabs = false }: { mounted?: Flow; stepViews?: StepViews; Router?: RouterComponent; tabs?: TabOptions | false } = {},
) {
  const InRouter: RouterComponent = Router ?? (({ children }) => <MemoryRouter initialEntries={[path]}>{children}</MemoryRouter>);
  render(
    <WayflowProvider store={store} binder="me" tabs={tabs}>
      <InRouter>
        <Routes>
          <Route path={`/${mounted.id}/*`} element={<FlowRoutes flow={mounted} views={stepViews} completed={<h1>Ordered</h1>} />} />
          <Route path="/elsewhere" element={<h1>Elsewhere</h1>} />
        </Routes>
        <Probe />
      </InRouter>
    </WayflowProvider>,
  );
  return store;
}

const url = () => screen.getByTestId('url').textContent!;
const idOf = (href: string) => new URLSearchParams(href.split('?')[1]).get('_id');
const heading = (name: string) => screen.findByRole('heading', { level: 1, name });
/** Waits until the address bar shows `path`, as a person would before pressing a browser button. */
const at = (path: string) => waitFor(() => expect(url().split('?')[0]).toBe(path));

/** One press of the browser's Back lands outside the flow, on the page before it. */
async function backLeavesTheFlow() {
  act(() => go(-1));
  await heading('Elsewhere');
  expect(url()).toBe('/elsewhere');
}

async function continueWith(label: string | null, value?: string) {
  if (label) fireEvent.change(screen.getByLabelText(label), { target: { value } });
  fireEvent.click(screen.getByRole('button', { name: /Continue|Place order/ }));
}

describe('FlowRoutes', () => {
  it('starts a task at the flow’s path and gives each step its own path, keeping the id', async () => {
    app('/order');
    await heading('Your name');
    await waitFor(() => expect(url()).toMatch(/^\/order\/name\?_id=[A-Za-z0-9_-]{22}$/));
    const id = idOf(url());
    await continueWith('Name', 'Ada');
    await heading('How to pay');
    await waitFor(() => expect(url()).toBe(`/order/pay?_id=${id}`));
    fireEvent.click(screen.getByLabelText('Bank'));
    await continueWith(null);
    await heading('Bank');
    await waitFor(() => expect(url()).toBe(`/order/pay/bank?_id=${id}`));
  });

  it('starts exactly one task under StrictMode, the one the address names and the page drives', async () => {
    const records = new Map<string, unknown>();
    app('/order', memoryStore(Date.now, records));
    await heading('Your name');
    await at('/order/name');
    await continueWith('Name', 'Ada');
    await heading('How to pay');
    await at('/order/pay');
    const id = idOf(url())!;
    expect([...records.keys()]).toEqual([id]);
    expect(records.get(id)).toMatchObject({ data: { name: { name: 'Ada' } } });
  });

  it('resumes the task in the address after a reload with tab detection on: same id, progress kept, no copy', async () => {
    const records = new Map<string, unknown>();
    const store = memoryStore(Date.now, records);
    const tabs = { locks: fakeLocks(), probeMs: 30, waitMs: 100 };
    app('/order', store, { tabs });
    await heading('Your name');
    await continueWith('Name', 'Ada');
    await heading('How to pay');
    await at('/order/pay');
    const id = idOf(url());
    cleanup();
    app(`/order/pay?_id=${id}`, store, { tabs });
    await heading('How to pay');
    expect(url()).toBe(`/order/pay?_id=${id}`);
    expect([...records.keys()]).toEqual([id]);
  });

  it('keeps other search parameters next to the id', async () => {
    app('/order?ref=newsletter');
    await heading('Your name');
    await waitFor(() => expect(url()).toMatch(/^\/order\/name\?ref=newsletter&_id=/));
  });

  it('moves back and forward through the visited steps with the browser buttons', async () => {
    app('/order');
    await heading('Your name');
    await continueWith('Name', 'Ada');
    await heading('How to pay');
    fireEvent.click(screen.getByLabelText('Card'));
    await continueWith(null);
    await heading('Card');
    await at('/order/pay/card');
    act(() => go(-1));
    await heading('How to pay');
    await at('/order/pay');
    act(() => go(-1));
    await heading('Your name');
    expect((screen.getByLabelText('Name') as HTMLInputElement).value).toBe('Ada');
    act(() => go(1));
    await heading('How to pay');
    act(() => go(1));
    await heading('Card');
    await at('/order/pay/card');
  });

  it('redirects a deep link to a step the task has not reached to the step it is at', async () => {
    const store = app('/order');
    await heading('Your name');
    await at('/order/name');
    const id = idOf(url());
    cleanup();
    app(`/order/pay/card?_id=${id}`, store);
    await heading('Your name');
    await waitFor(() => expect(url()).toBe(`/order/name?_id=${id}`));
  });

  it('resumes a task from a deep link to its current step', async () => {
    const store = app('/order');
    await heading('Your name');
    await continueWith('Name', 'Ada');
    await heading('How to pay');
    await at('/order/pay');
    const id = idOf(url());
    cleanup();
    app(`/order/pay?_id=${id}`, store);
    await heading('How to pay');
    expect(url()).toBe(`/order/pay?_id=${id}`);
  });

  it('follows a step link back to an earlier step, with the id kept', async () => {
    app('/order');
    await heading('Your name');
    await at('/order/name');
    const id = idOf(url());
    await continueWith('Name', 'Ada');
    await heading('How to pay');
    fireEvent.click(screen.getByLabelText('Card'));
    await continueWith(null);
    await heading('Card');
    await continueWith(null);
    await heading('Review');
    expect(screen.getByRole('link', { name: 'Change name' }).getAttribute('href')).toBe(`/order/name?_id=${id}`);
    fireEvent.click(screen.getByRole('link', { name: 'Change name' }));
    await heading('Your name');
  });

  it('starts a new task when a link has no id', async () => {
    app('/order');
    await heading('Your name');
    await at('/order/name');
    const first = idOf(url());
    await continueWith('Name', 'Ada');
    await heading('How to pay');
    act(() => go('/order'));
    await heading('Your name');
    await waitFor(() => expect(idOf(url())).not.toBeNull());
    expect(idOf(url())).not.toBe(first);
  });

  it.each([
    ['a malformed id', '/order/pay?_id=../../etc', 'This link does not work'],
    ['an unknown id', '/order/pay?_id=AAAAAAAAAAAAAAAAAAAAAA', 'This task was not found'],
  ])('starts over with one click from %s', async (_case, path, problem) => {
    const records = new Map<string, unknown>();
    app(path, memoryStore(Date.now, records));
    await heading(problem);
    fireEvent.click(screen.getByRole('button', { name: 'Start over' }));
    await heading('Your name');
    await at('/order/name');
    expect([...records.keys()]).toEqual([idOf(url())]);
  });

  it('leaves a problem page for a link without an id and starts a task', async () => {
    app('/order?_id=AAAAAAAAAAAAAAAAAAAAAA');
    await heading('This task was not found');
    act(() => go('/order'));
    await heading('Your name');
    await at('/order/name');
  });

  it('completes at the flow’s own path, and one press of Back leaves the finished flow', async () => {
    app('/elsewhere');
    act(() => go('/order'));
    await heading('Your name');
    await at('/order/name');
    const id = idOf(url());
    await continueWith('Name', 'Ada');
    fireEvent.click(await screen.findByLabelText('Bank'));
    await continueWith(null);
    await heading('Bank');
    await continueWith(null);
    await heading('Review');
    await continueWith(null);
    await heading('Ordered');
    await waitFor(() => expect(url()).toBe(`/order?_id=${id}`));
    await backLeavesTheFlow();
  });

  it('leaves a finished flow with one press of Back after a reload on its end page', async () => {
    const store = memoryStore();
    const task = await startTask(flow, { store, binder: 'me' });
    await task.submit({ name: 'Ada' });
    await task.submit({ choice: 'card' });
    await task.submit();
    await task.submit();
    task.dispose();
    const entries = ['/elsewhere', 'name', 'pay', 'pay/card', 'review', ''].map((step, i) => (i ? `/order${step && '/'}${step}?_id=${task.id}` : step));
    app(entries.at(-1)!, store, {
      Router: ({ children }) => (
        <MemoryRouter initialEntries={entries} initialIndex={entries.length - 1}>
          {children}
        </MemoryRouter>
      ),
    });
    await heading('Ordered');
    await backLeavesTheFlow();
  });

  it('shows the end page for a step address of a finished task', async () => {
    const store = memoryStore();
    const task = await startTask(flow, { store, binder: 'me' });
    await task.abort('changed my mind');
    task.dispose();
    app(`/order/name?_id=${task.id}`, store);
    await heading('Order: stopped');
    await waitFor(() => expect(url()).toBe(`/order?_id=${task.id}`));
  });
});

let current: Task | null = null;
function Remember() {
  current = useTask().task;
  return <StepForm />;
}

describe('FlowRoutes guards', () => {
  const members = defineFlow({
    id: 'members',
    title: 'Members',
    children: [action({ id: 'welcome', title: 'Welcome' }), action({ id: 'lounge', title: 'Lounge', preconditions: [signedIn()] })],
  });

  it('refuses to go forward to a step whose precondition fails now, and stays put', async () => {
    render(
      <WayflowProvider store={memoryStore()} binder="me" tabs={false} user={{ id: 'u1' }}>
        <MemoryRouter initialEntries={['/members']}>
          <Routes>
            <Route path="/members/*" element={<FlowRoutes flow={members} views={{ welcome: Remember, lounge: Remember }} />} />
          </Routes>
          <Probe />
        </MemoryRouter>
      </WayflowProvider>,
    );
    await heading('Welcome');
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    await heading('Lounge');
    await at('/members/lounge');
    act(() => go(-1));
    await heading('Welcome');
    await act(() => current!.setUser(null));
    seen.length = 0;
    act(() => go(1));
    await waitFor(() => expect(seen).toEqual(['/members/lounge', '/members/welcome']));
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Welcome');
    expect(current!.state.ahead).toEqual(['lounge']);
  });
});

/**
 * A memory router whose rendered location can be held back while the history moves on,
 * as react-router's transitions let it lag behind a task that moved (a busy page, a fast user).
 */
function laggingRouter(path: string) {
  const history = createMemoryHistory({ initialEntries: [path], v5Compat: true });
  let held = false;
  let show: (location: Location) => void = () => undefined;
  function LaggingRouter({ children }: { children: ReactNode }) {
    const [location, setLocation] = useState(history.location);
    useLayoutEffect(() => {
      show = setLocation;
      return history.listen(({ location: next }) => {
        if (!held) setLocation(next);
      });
    }, []);
    return (
      <Router location={location} navigator={history}>
        {children}
      </Router>
    );
  }
  return {
    history,
    LaggingRouter,
    hold: () => {
      held = true;
    },
    release: () => {
      held = false;
      act(() => show(history.location));
    },
  };
}

describe('FlowRoutes when the address lags behind the task', () => {
  function lagging(path: string, mounted?: Flow, stepViews?: StepViews) {
    const router = laggingRouter(path);
    app(path, memoryStore(), { mounted, stepViews, Router: router.LaggingRouter });
    return router;
  }

  it('gives the first step its own history entry when the task moved on before the address had the id', async () => {
    const router = lagging('/order');
    router.hold();
    await heading('Your name');
    await continueWith('Name', 'Ada');
    await heading('How to pay');
    router.release();
    await at('/order/pay');
    expect(router.history.index).toBe(1);
    act(() => go(-1));
    await heading('Your name');
    await at('/order/name');
    expect((screen.getByLabelText('Name') as HTMLInputElement).value).toBe('Ada');
  });

  it('gives every step its own history entry when the task moved on twice before the address had the id', async () => {
    const router = lagging('/order');
    router.hold();
    await heading('Your name');
    await continueWith('Name', 'Ada');
    await heading('How to pay');
    fireEvent.click(screen.getByLabelText('Card'));
    await continueWith(null);
    await heading('Card');
    router.release();
    await at('/order/pay/card');
    expect(router.history.index).toBe(2);
    act(() => go(-1));
    await heading('How to pay');
    await at('/order/pay');
    act(() => go(-1));
    await heading('Your name');
    await at('/order/name');
  });

  it('does not take a stale address for the user going back', async () => {
    const poll = action({ id: 'poll', title: 'Waiting', submit: () => outcome.suspendAndRepeat(0) });
    const waiting = defineFlow({ id: 'waiting', title: 'Waiting flow', children: [name, poll, action({ id: 'done', title: 'Done' })] });
    const router = lagging('/waiting', waiting, { name: views.name, poll: Remember });
    await heading('Your name');
    await at('/waiting/name');
    router.hold();
    await continueWith('Name', 'Ada');
    await heading('Waiting');
    const visit = current?.state.step?.visit;
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    await waitFor(() => expect(current?.state.step?.visit).not.toBe(visit));
    router.release();
    await at('/waiting/poll');
    expect(current?.state.step?.id).toBe('poll');
    expect(current?.toRecord().history.map((entry) => entry.event)).toEqual(['start', 'submit', 'submit', 'resume']);
    expect(router.history.index).toBe(1);
  });
});
