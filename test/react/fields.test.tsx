// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { action, defineFlow, outcome, startTask, type Task } from '../../src/core/index.ts';
import { FlowOutlet, StepForm, TaskProvider, WayflowProvider } from '../../src/react/index.ts';
import { Checkbox, FileField, RadioGroup, Select, TextArea } from '../../src/react/fields/index.ts';
import { chooseFiles } from '../helpers/choose-files.ts';

afterEach(cleanup);

const application = z.object({
  country: z.enum(['NL', 'BE'], { error: 'Choose your country' }),
  plan: z.enum(['free', 'pro'], { error: 'Choose a plan' }),
  terms: z.coerce.boolean().refine(Boolean, 'Accept the terms'),
  notes: z.string().max(20, 'At most 20 characters'),
  passport: z.instanceof(File, { error: 'Add a scan of your passport' }),
});
let received: z.infer<typeof application> | null = null;
const apply = action({
  id: 'apply',
  title: 'Apply',
  schema: application,
  submit: (_data, input) => {
    received = input;
    return outcome.complete({ passport: input.passport.name });
  },
});
const flow = defineFlow({ id: 'membership', title: 'Membership', children: [apply, action({ id: 'done', title: 'Welcome' })] });

const views = {
  apply: () => (
    <StepForm draftDelayMs={0}>
      <Select name="country" label="Country" placeholder="Choose…" options={[{ value: 'NL', label: 'Netherlands' }, { value: 'BE', label: 'Belgium' }]} />
      <RadioGroup name="plan" label="Plan" options={[{ value: 'free', label: 'Free' }, { value: 'pro', label: 'Pro' }]} />
      <Checkbox name="terms" label="I accept the terms" />
      <TextArea name="notes" label="Notes" />
      <FileField name="passport" label="Passport" accept=".pdf" />
    </StepForm>
  ),
};

function mount(task: Task) {
  render(
    <WayflowProvider>
      <TaskProvider task={task}>
        <FlowOutlet views={views} />
      </TaskProvider>
    </WayflowProvider>,
  );
}

const alerts = () => screen.getAllByRole('alert').map((el) => el.textContent);
const describedBy = (el: HTMLElement) => (el.getAttribute('aria-describedby') ?? '').split(' ').map((id) => document.getElementById(id)?.textContent);
const passport = () => new File(['%PDF-1.7 scan'], 'passport.pdf', { type: 'application/pdf' });

describe('the form fields of wayflow/react/fields', () => {
  it('label every control and link each field error to it', async () => {
    mount(await startTask(flow));
    fireEvent.click(await screen.findByRole('button', { name: 'Continue' }));
    await waitFor(() =>
      expect(alerts()).toEqual(['Some fields need your attention.', 'Choose your country', 'Choose a plan', 'Accept the terms', 'Add a scan of your passport']),
    );
    const country = screen.getByRole('combobox', { name: 'Country' });
    expect(describedBy(country)).toEqual(['Choose your country']);
    expect(country.getAttribute('aria-invalid')).toBe('true');
    const plan = screen.getByRole('group', { name: 'Plan' });
    expect(describedBy(plan)).toEqual(['Choose a plan']);
    expect(screen.getAllByRole('radio').map((radio) => (radio as HTMLInputElement).labels?.[0]?.textContent?.trim())).toEqual(['Free', 'Pro']);
    expect(describedBy(screen.getByRole('checkbox', { name: 'I accept the terms' }))).toEqual(['Accept the terms']);
    expect(screen.getByRole('textbox', { name: 'Notes' }).getAttribute('aria-invalid')).toBeNull();
    expect(describedBy(screen.getByLabelText('Passport'))).toEqual(['Add a scan of your passport']);
  });

  it('submit the chosen option, the checkbox as a boolean, the text, and the chosen File itself', async () => {
    received = null;
    const task = await startTask(flow);
    mount(task);
    fireEvent.change(await screen.findByLabelText('Country'), { target: { value: 'BE' } });
    fireEvent.click(screen.getByLabelText('Pro'));
    fireEvent.click(screen.getByLabelText('I accept the terms'));
    fireEvent.change(screen.getByLabelText('Notes'), { target: { value: 'Evenings, please' } });
    const file = passport();
    chooseFiles(screen.getByLabelText('Passport'), [file]);
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    await screen.findByRole('heading', { level: 1, name: 'Welcome' });
    expect(received).toEqual({ country: 'BE', plan: 'pro', terms: true, notes: 'Evenings, please', passport: file });
    expect(received!.passport).toBe(file);
    expect(task.state.data).toEqual({ passport: 'passport.pdf' });
  });

  it('keep a draft of every field, a file by its name, size and type, and ask for the file again after a reload', async () => {
    const task = await startTask(flow);
    mount(task);
    fireEvent.change(await screen.findByLabelText('Country'), { target: { value: 'NL' } });
    fireEvent.click(screen.getByLabelText('Free'));
    fireEvent.click(screen.getByLabelText('I accept the terms'));
    fireEvent.change(screen.getByLabelText('Notes'), { target: { value: 'Hi' } });
    chooseFiles(screen.getByLabelText('Passport'), [passport()]);
    const draft = { country: 'NL', plan: 'free', terms: 'true', notes: 'Hi', passport: { name: 'passport.pdf', size: 13, type: 'application/pdf' } };
    await waitFor(() => expect(task.state.step?.draft).toEqual(draft));
    cleanup();
    mount(task);
    expect(((await screen.findByLabelText('Country')) as HTMLSelectElement).value).toBe('NL');
    expect((screen.getByLabelText('Free') as HTMLInputElement).checked).toBe(true);
    expect((screen.getByLabelText('Pro') as HTMLInputElement).checked).toBe(false);
    expect((screen.getByLabelText('I accept the terms') as HTMLInputElement).checked).toBe(true);
    expect((screen.getByLabelText('Notes') as HTMLTextAreaElement).value).toBe('Hi');
    const input = screen.getByLabelText('Passport');
    expect(describedBy(input)).toEqual(['You chose passport.pdf; choose it again.']);
    chooseFiles(input, [passport()]);
    await waitFor(() => expect(screen.queryByText('You chose passport.pdf; choose it again.')).toBeNull());
    expect(input.getAttribute('aria-describedby')).toBeNull();
  });

  it('leave out a file input with no file chosen, and an unchecked checkbox', async () => {
    const loose = action({ id: 'loose', title: 'Loose', schema: z.object({ terms: z.coerce.boolean().default(false), scan: z.instanceof(File).optional() }) });
    const task = await startTask(defineFlow({ id: 'optional', title: 'Optional', children: [loose, action({ id: 'end', title: 'End' })] }));
    render(
      <TaskProvider task={task}>
        <FlowOutlet
          views={{
            loose: () => (
              <StepForm>
                <Checkbox name="terms" label="Terms" />
                <FileField name="scan" label="Scan" />
              </StepForm>
            ),
          }}
        />
      </TaskProvider>,
    );
    fireEvent.click(await screen.findByRole('button', { name: 'Continue' }));
    await screen.findByRole('heading', { level: 1, name: 'End' });
    expect(task.state.data).toEqual({ loose: { terms: false } });
  });
});
