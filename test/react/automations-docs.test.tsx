// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { statusOf } from '../sync/fakes.ts';
import { Inbox } from '../sync/examples/inbox.tsx';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const form = {
  instanceId: 'inst-1',
  taskId: 3,
  node: 'approve',
  description: 'Approve the order',
  since: 0,
  automation: 'OrderFulfilment',
  verboseName: 'Order fulfilment',
  hoursWaiting: 2.5,
};

describe('the inbox example of docs/sync-client.md', () => {
  it('lists the tasks, opens one, shows the server field errors and sends it', async () => {
    const posted: unknown[] = [];
    vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
      const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
      if (url === '/automations/forms') return json(200, { forms: [form] });
      if (init.method !== 'POST') return json(200, { form: { ...form, data: { order: { orderId: 'order-42' } } } });
      posted.push(JSON.parse(String(init.body)));
      return posted.length === 1
        ? json(422, { error: { code: 'invalid-input', message: 'Some fields need your attention.', fields: { note: ['Say why the order is rejected'] } } })
        : json(200, { instance: statusOf('v2', { id: 'inst-1' }) });
    });
    render(<Inbox />);
    expect(await screen.findByRole('cell', { name: '2.5 h' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Open Approve the order (Order fulfilment)' }));
    fireEvent.change(await screen.findByLabelText('Decision (approve or reject)'), { target: { value: 'reject' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    const error = await screen.findByText('Say why the order is rejected');
    expect(screen.getByLabelText('Note for the shopper').getAttribute('aria-describedby')).toBe(error.id);
    fireEvent.change(screen.getByLabelText('Note for the shopper'), { target: { value: 'Out of stock' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Sent' })).toBeTruthy();
    expect(posted).toEqual([{ input: { decision: 'reject', note: '' } }, { input: { decision: 'reject', note: 'Out of stock' } }]);
    fireEvent.click(screen.getByRole('button', { name: 'Back to the tasks' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Your tasks' })).toBeTruthy();
  });
});
