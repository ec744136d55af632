// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { action, defineFlow, startTask, Task } from '../../src/core/index.ts';
import { memoryLocation, memoryStore } from '../../src/persist/index.ts';
import { FlowView, WayflowProvider } from '../../src/react/index.ts';
import { manualClock } from '../helpers/clock.ts';
import { fakeLocks } from '../persist/fake-locks.ts';

afterEach(cleanup);

const flow = defineFlow({ id: 'survey', title: 'Survey', children: [action({ id: 'q1', title: 'Question one' }), action({ id: 'q2', title: 'Question two' })] });

function app(location: ReturnType<typeof memoryLocation>, store = memoryStore(), clock = manualClock()) {
  render(
    <WayflowProvider store={store} binder="me" location={location} tabs={false} clock={clock} idleTimeoutMs={60_000}>
      <FlowView flow={flow} />
    </WayflowProvider>,
  );
  return { store, clock };
}

describe('FlowView', () => {
  it('starts a task, writes its id into the URL and shows the first step', async () => {
    const location = memoryLocation('https://shop.test/survey');
    app(location);
    expect(screen.getByRole('status').textContent).toBe('Loading…');
    expect(await screen.findByRole('heading', { level: 1, name: 'Question one' })).toBeTruthy();
    expect(new URL(location.href).searchParams.get('_id')).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(screen.getByText('Step 1 of 2')).toBeTruthy();
  });

  it('resumes the task named in the URL', async () => {
    const clock = manualClock();
    const store = memoryStore(clock.now);
    const task = await startTask(flow, { store, binder: 'me', clock, idleTimeoutMs: 60_000 });
    await task.submit();
    app(memoryLocation(`https://shop.test/survey?_id=${task.id}`), store, clock);
    expect(await screen.findByRole('heading', { level: 1, name: 'Question two' })).toBeTruthy();
  });

  it('says an expired task expired and starts over on request', async () => {
    const clock = manualClock();
    const store = memoryStore(clock.now);
    const task = await startTask(flow, { store, binder: 'me', clock, idleTimeoutMs: 60_000 });
    await clock.advance(60_001);
    const location = memoryLocation(`https://shop.test/survey?_id=${task.id}`);
    app(location, store, clock);
    expect(await screen.findByRole('heading', { level: 1, name: 'This task expired' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Start over' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Question one' })).toBeTruthy();
    expect(new URL(location.href).searchParams.get('_id')).not.toBe(task.id);
  });

  it('shows a clear error for a tampered id and never looks it up', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const store = memoryStore();
    store.get = () => Promise.reject(new Error('looked up'));
    app(memoryLocation('https://shop.test/survey?_id=../../etc/passwd'), store);
    expect(await screen.findByRole('heading', { level: 1, name: 'This link does not work' })).toBeTruthy();
    expect(screen.getByRole('alert').textContent).toBe('The address is incomplete or was changed.');
    // The developer message is logged by an effect, which can run after the page is painted.
    await waitFor(() => expect(logged.mock.calls.map(([error]) => (error as Error).message)).toEqual([expect.stringMatching(/"..\/..\/etc\/passwd" is not a task id/)]));
    logged.mockRestore();
  });

  it('starts exactly one task under StrictMode, the one the URL names and the page drives', async () => {
    const location = memoryLocation('https://shop.test/survey');
    const records = new Map<string, unknown>();
    app(location, memoryStore(Date.now, records));
    expect(await screen.findByRole('heading', { level: 1, name: 'Question one' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Question two' })).toBeTruthy();
    const id = new URL(location.href).searchParams.get('_id')!;
    expect([...records.keys()]).toEqual([id]);
    expect((records.get(id) as { version: number }).version).toBe(2);
  });

  it('has subscribed to the task by the time its first step is on the page, so a click at once is drawn as it happens', async () => {
    const subscribe = vi.spyOn(Task.prototype, 'subscribe');
    const heading = new Promise<number>((resolve) => {
      // Called in the microtask after the commit that puts the heading in the document: before any later task React schedules.
      const watch = new MutationObserver(() => {
        if (!document.querySelector('h1')?.textContent?.includes('Question one')) return;
        watch.disconnect();
        resolve(subscribe.mock.calls.length);
      });
      watch.observe(document.body, { childList: true, subtree: true, characterData: true });
    });
    app(memoryLocation('https://shop.test/survey'));
    expect(await heading, 'subscriptions when the first step appeared').toBeGreaterThan(0);
    subscribe.mockRestore();
  });

  it('resumes the task in the URL after a reload with tab detection on, without forking it', async () => {
    const clock = manualClock();
    const store = memoryStore(clock.now);
    const task = await startTask(flow, { store, binder: 'me', clock, idleTimeoutMs: 60_000 });
    await task.submit();
    task.dispose();
    const location = memoryLocation(`https://shop.test/survey?_id=${task.id}`);
    render(
      <WayflowProvider store={store} binder="me" location={location} clock={clock} idleTimeoutMs={60_000} tabs={{ locks: fakeLocks(), probeMs: 30, waitMs: 100 }}>
        <FlowView flow={flow} />
      </WayflowProvider>,
    );
    expect(await screen.findByRole('heading', { level: 1, name: 'Question two' })).toBeTruthy();
    expect(new URL(location.href).searchParams.get('_id')).toBe(task.id);
    expect((await store.list('me')).map((summary) => summary.id)).toEqual([task.id]);
  });

  it('says when the task in the URL is unknown', async () => {
    app(memoryLocation('https://shop.test/survey?_id=AAAAAAAAAAAAAAAAAAAAAA'));
    expect(await screen.findByRole('heading', { level: 1, name: 'This task was not found' })).toBeTruthy();
  });
});
