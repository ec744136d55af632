// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { action, defineFlow } from '../../src/core/index.ts';
import { memoryLocation, memoryStore, type RemoteStore, remoteStore, type StateStore } from '../../src/persist/index.ts';
import { FlowView, WayflowProvider } from '../../src/react/index.ts';
import { SaveStatus, useSaveState } from '../../src/react/save/index.ts';
import { fakeTasksServer as fakeServer } from '../helpers/fake-tasks-server.ts';
import { makeRecord } from '../persist/contract.ts';

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

const flow = defineFlow({
  id: 'survey',
  title: 'Survey',
  children: [action({ id: 'q1', title: 'Question one' }), action({ id: 'q2', title: 'Question two' }), action({ id: 'q3', title: 'Question three' })],
});

function app(store: StateStore) {
  render(
    <WayflowProvider store={store} binder="me" location={memoryLocation('https://shop.test/survey')} tabs={false}>
      <SaveStatus />
      <FlowView flow={flow} />
    </WayflowProvider>,
  );
}

/** The save status line: a polite live region. */
async function saveStatus(text: string) {
  const line = await screen.findByText(text);
  expect(line.getAttribute('role')).toBe('status');
  expect(line.getAttribute('aria-live')).toBe('polite');
  return line;
}

const heading = (name: string) => screen.findByRole('heading', { level: 1, name });
const press = (name: string) => fireEvent.click(screen.getByRole('button', { name }));

describe('SaveStatus', () => {
  it('says saved, then offline with the number of changes waiting, then saved again once the server is back', async () => {
    const server = fakeServer();
    const store = remoteStore({ baseUrl: 'http://wayflow.test', fetch: server.fetch, retryIntervalMs: 0 });
    app(store);
    await heading('Question one');
    await saveStatus('All changes saved');
    server.network.down = true;
    press('Continue');
    await heading('Question two');
    expect((await saveStatus('Offline (1 waiting)')).className).toBe('wayflow-save wayflow-save-offline');
    press('Continue');
    await heading('Question three');
    await saveStatus('Offline (2 waiting)');
    expect([...server.tasks.values()].map((task) => task.version)).toEqual([1]);
    server.network.down = false;
    await store.sync();
    await saveStatus('All changes saved');
    expect([...server.tasks.values()].map((task) => task.version)).toEqual([3]);
    store.close();
  });

  it('says a change failed, and that changes made elsewhere conflict with the offline ones', async () => {
    const server = fakeServer();
    const store = remoteStore({ baseUrl: 'http://wayflow.test', fetch: server.fetch, retryIntervalMs: 0 });
    // The refused submit's developer message goes to the console; the page shows plain words.
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    app(store);
    await heading('Question one');
    server.network.failWrites = true;
    press('Continue');
    await saveStatus('Your changes could not be saved.');
    server.network.failWrites = false;
    press('Continue');
    await heading('Question two');
    await saveStatus('All changes saved');
    server.network.down = true;
    press('Continue');
    await heading('Question three');
    await saveStatus('Offline (1 waiting)');
    const [record] = server.tasks.values();
    server.tasks.set(record!.id, { ...record!, version: record!.version + 1 });
    server.network.down = false;
    await store.sync();
    await saveStatus('Not saved: this was changed elsewhere.');
    await store.resolveConflict(record!.id, 'local');
    await saveStatus('All changes saved');
    store.close();
  });

  it('speaks the messages given to the provider', async () => {
    const server = fakeServer();
    const store = remoteStore({ baseUrl: 'http://wayflow.test', fetch: server.fetch, retryIntervalMs: 0 });
    server.network.down = true;
    render(
      <WayflowProvider store={store} messages={{ offline: (waiting) => `Hors ligne : ${waiting} en attente` }}>
        <SaveStatus />
      </WayflowProvider>,
    );
    await store.put(makeRecord({ version: 1, expiresAt: Date.now() + 60_000 }), 0);
    await saveStatus('Hors ligne : 1 en attente');
    store.close();
  });

  it('shows nothing for a store whose writes are all local, and useSaveState says null', async () => {
    let seen: unknown = 'unset';
    function Probe({ store }: { store?: RemoteStore }) {
      seen = useSaveState(store);
      return null;
    }
    render(
      <WayflowProvider store={memoryStore()}>
        <SaveStatus />
        <Probe />
      </WayflowProvider>,
    );
    await waitFor(() => expect(seen).toBeNull());
    expect(screen.queryByRole('status')).toBeNull();
  });
});
