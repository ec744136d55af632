// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EmailStep } from '../../docs/examples/react-hook-form.tsx';
import { action, defineFlow, startTask } from '../../src/core/index.ts';
import { FlowOutlet, TaskProvider } from '../../src/react/index.ts';

afterEach(cleanup);

const flow = defineFlow({
  id: 'newsletter',
  title: 'Newsletter',
  children: [action({ id: 'email', title: 'Your email', schema: z.object({ email: z.email('Enter a valid email') }) }), action({ id: 'thanks', title: 'Thanks' })],
});

describe('a react-hook-form step view', () => {
  it('submits the values react-hook-form collects, and shows wayflow’s field errors linked to the input', async () => {
    const task = await startTask(flow);
    render(
      <TaskProvider task={task}>
        <FlowOutlet views={{ email: EmailStep }} />
      </TaskProvider>,
    );
    const input = screen.getByLabelText('Email');
    fireEvent.input(input, { target: { value: 'nope' } });
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    const error = await screen.findByText('Enter a valid email');
    expect(screen.getByLabelText('Email').getAttribute('aria-describedby')).toBe(error.id);
    expect(task.state.step?.draft).toEqual({ email: 'nope' });
    fireEvent.input(screen.getByLabelText('Email'), { target: { value: 'ada@example.com' } });
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    await screen.findByRole('heading', { level: 1, name: 'Thanks' });
    expect(task.state.data.email).toEqual({ email: 'ada@example.com' });
  });

  it('prefills the input with what was entered before, after going back', async () => {
    const task = await startTask(flow);
    await task.submit({ email: 'ada@example.com' });
    await task.back();
    render(
      <TaskProvider task={task}>
        <FlowOutlet views={{ email: EmailStep }} />
      </TaskProvider>,
    );
    await waitFor(() => expect((screen.getByLabelText('Email') as HTMLInputElement).value).toBe('ada@example.com'));
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    await screen.findByRole('heading', { level: 1, name: 'Thanks' });
  });
});
