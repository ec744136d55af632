// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Field, StepForm } from '../../src/react/index.ts';
import { AutomationFormTask } from '../../src/react/automations/index.ts';
import { automationClient, automationForm } from '../../src/sync/index.ts';
import { asSession, startOrder, syncTestEnv } from '../server/sync/helpers.ts';

// The browser and a real server app (in process, on PGlite) whose Form schema is stricter than the browser's.
const env = syncTestEnv({ app: {} });
const app = env.fetcher('app');
afterEach(cleanup);

/** The back office's browser: its bearer token on every request, no EventSource (jsdom has none). */
const backOffice = automationClient({
  baseUrl: 'http://app.test',
  EventSource: null,
  fetch: async (input, init) => {
    const request = new Request(input, init);
    request.headers.set('authorization', 'Bearer bo');
    return app(request);
  },
});

/** The browser's copy of the approval schema has drifted: it lost the server's `note.min(1)`. */
const drifted = automationForm({
  id: 'approve',
  title: 'Approve the order',
  schema: z.object({ decision: z.enum(['approve', 'reject']), note: z.string() }),
  client: backOffice,
});

const views = {
  approve: () => (
    <StepForm submitLabel="Submit decision">
      <Field name="decision" label="Decision" />
      <Field name="note" label="Note" />
    </StepForm>
  ),
};

describe('a form the server’s schema rejects (drifted schemas, or a crafted request)', () => {
  it('shows the server’s field error next to the input, and the automation is unchanged', async () => {
    const order = await startOrder(asSession(app));
    const [form] = await backOffice.forms();
    expect(form).toMatchObject({ instanceId: order.id, node: 'approve' });
    const before = await env.running.runner.get(order.id);
    const historyBefore = await env.running.runner.history(order.id);

    render(<AutomationFormTask client={backOffice} form={form!} flow={drifted} views={views} completed={<h1>Done</h1>} />);
    await screen.findByRole('heading', { level: 1, name: 'Approve the order' });
    fireEvent.change(screen.getByLabelText('Decision'), { target: { value: 'approve' } });
    fireEvent.change(screen.getByLabelText('Note'), { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: 'Submit decision' }));

    const note = screen.getByLabelText('Note');
    await waitFor(() => expect(note.getAttribute('aria-invalid')).toBe('true'));
    const error = document.getElementById(note.getAttribute('aria-describedby')!);
    expect(error?.getAttribute('role')).toBe('alert');
    expect(error?.textContent).toBe('Write a note');
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Approve the order');

    const after = await env.running.runner.get(order.id);
    expect(after).toEqual(before);
    expect(await env.running.runner.history(order.id)).toEqual(historyBefore);
    expect((await backOffice.forms()).map((f) => f.taskId)).toEqual([form!.taskId]);

    // Corrected, the same form goes through and the automation moves on.
    fireEvent.change(screen.getByLabelText('Note'), { target: { value: 'Looks right' } });
    fireEvent.click(screen.getByRole('button', { name: 'Submit decision' }));
    await screen.findByRole('heading', { level: 1, name: 'Done' });
    expect((await env.running.runner.get(order.id)).data.approve).toEqual({ decision: 'approve', note: 'Looks right' });
  });
});
