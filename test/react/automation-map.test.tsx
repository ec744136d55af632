// @vitest-environment jsdom
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { StrictMode } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { AutomationMap, type LiveMapProps } from '../../src/react/automations/index.ts';
import { ProcessMap } from '../../src/react/map/index.ts';
import { type AutomationClient, SyncError } from '../../src/sync/index.ts';
import type { NodeInstanceView, ProcessMapView } from '../../src/sync/protocol.ts';
import { silenceConsoleErrors } from '../helpers/console-errors.ts';

silenceConsoleErrors();

const graph: ProcessMapView['graph'] = {
  nodes: [
    { id: 'received', label: 'Order received', kind: 'execute' },
    { id: 'approve', label: 'Approve the order', kind: 'form' },
    { id: 'end', label: 'Done', kind: 'end' },
  ],
  edges: [
    { from: 'received', to: 'approve' },
    { from: 'approve', to: 'end' },
  ],
};
const mapWith = (counts: ProcessMapView['counts'], version: string): ProcessMapView => ({ name: 'Orders', verboseName: 'Order fulfilment', graph, counts, version });
const draw = (props: LiveMapProps) => <ProcessMap {...props} />;
const waiting = (id: string): NodeInstanceView => ({ id, createdAt: 0, since: 0, status: 'form', error: null });

/** A client whose map stream the test drives: `push` hands a map to the open watches, `open` counts them. */
function liveClient(instancesAt: (node: string) => NodeInstanceView[]) {
  const watchers = new Set<(map: ProcessMapView) => void>();
  const mapInstances = vi.fn(async (_automation: string, node: string) => instancesAt(node));
  const client: Pick<AutomationClient, 'watchMap' | 'mapInstances'> = {
    watchMap: (_automation, onMap) => {
      watchers.add(onMap);
      return () => watchers.delete(onMap);
    },
    mapInstances,
  };
  return {
    client,
    mapInstances,
    open: () => watchers.size,
    push: (map: ProcessMapView) =>
      act(() => {
        for (const onMap of watchers) onMap(map);
      }),
  };
}

describe('AutomationMap', () => {
  it('draws the live counts, and lists the instances at the node the user chooses, read again when the counts change', async () => {
    let atApprove = [waiting('i1')];
    const live = liveClient((node) => (node === 'approve' ? atApprove : []));
    const onInspect = vi.fn();
    const view = render(
      <StrictMode>
        <AutomationMap client={live.client} automation="Orders" map={draw} onInspect={onInspect} />
      </StrictMode>,
    );
    expect(screen.getByRole('status').textContent).toMatch(/Loading/);
    // StrictMode mounts twice: the first watch is stopped, one stays open.
    expect(live.open()).toBe(1);
    await live.push(mapWith({ received: { waiting: 0, passed: 1, errors: 0 }, approve: { waiting: 1, passed: 0, errors: 0 } }, 'v1'));
    const table = screen.getByRole('table', { name: 'Order fulfilment' });
    expect(within(table).getAllByRole('row').map((row) => row.textContent)).toEqual(['StepWaiting nowPassedErrors', 'Order received010', 'Approve the order100', 'Done000']);

    fireEvent.click(screen.getByRole('button', { name: 'Approve the order: 1 waiting, 0 passed, 0 errors' }));
    const list = await screen.findByRole('list', { name: 'Instances: approve' });
    expect(within(list).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['i1 form']);
    fireEvent.click(within(list).getByRole('button', { name: 'i1' }));
    expect(onInspect).toHaveBeenCalledWith('i1');

    atApprove = [waiting('i1'), waiting('i2')];
    await live.push(mapWith({ received: { waiting: 0, passed: 2, errors: 0 }, approve: { waiting: 2, passed: 0, errors: 0 } }, 'v2'));
    expect(screen.getByRole('button', { name: 'Approve the order: 2 waiting, 0 passed, 0 errors' })).toBeTruthy();
    await waitFor(() => expect(within(screen.getByRole('list', { name: 'Instances: approve' })).getAllByRole('listitem')).toHaveLength(2));
    expect(live.mapInstances.mock.calls.every(([automation, node]) => automation === 'Orders' && node === 'approve')).toBe(true);

    view.unmount();
    expect(live.open()).toBe(0);
  });

  it('tells a user without automations.view which permission the map needs', async () => {
    const client: Pick<AutomationClient, 'watchMap' | 'mapInstances'> = {
      watchMap: (_automation, _onMap, options) => {
        const timer = setTimeout(() => options?.onError?.(new SyncError('dashboard-forbidden', 'Forbidden', 403)));
        return () => clearTimeout(timer);
      },
      mapInstances: async () => [],
    };
    render(
      <StrictMode>
        <AutomationMap client={client} automation="Orders" map={draw} />
      </StrictMode>,
    );
    expect((await screen.findByRole('alert')).textContent).toBe('You need the automations.view permission to see the dashboard.');
    // The server's own message goes to the console (once), not to the user.
    // (Logged by an effect, which may run just after the alert is drawn.)
    await waitFor(() => expect(vi.mocked(console.error).mock.calls.filter((call) => String(call[0]).includes('Forbidden'))).toHaveLength(1));
  });

  it('shows a failed poll until the next map arrives, then the map again', async () => {
    let onMap: ((map: ProcessMapView) => void) | undefined;
    let onError: ((error: unknown) => void) | undefined;
    const client: Pick<AutomationClient, 'watchMap' | 'mapInstances'> = {
      watchMap: (_automation, handler, options) => {
        onMap = handler;
        onError = options?.onError;
        return () => undefined;
      },
      mapInstances: async () => [],
    };
    render(
      <StrictMode>
        <AutomationMap client={client} automation="Orders" map={draw} />
      </StrictMode>,
    );
    await act(() => onMap?.(mapWith({ approve: { waiting: 1, passed: 0, errors: 0 } }, 'v1')));
    await act(() => onError?.(new SyncError('database-unavailable', 'The database is unavailable', 503)));
    expect(screen.getByRole('alert').textContent).toBe('The server is busy for a moment. Try again shortly.');
    await act(() => onMap?.(mapWith({ approve: { waiting: 2, passed: 0, errors: 0 } }, 'v2')));
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.getByRole('button', { name: 'Approve the order: 2 waiting, 0 passed, 0 errors' })).toBeTruthy();
  });
});
