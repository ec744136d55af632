import { action, defineFlow, outcome } from 'wayflow';
import { memoryStore } from 'wayflow/persist';
import { FlowView, StepForm, type StepViews, WayflowProvider } from 'wayflow/react';
import { Checkbox, FileField, RadioGroup, Select, TextArea } from 'wayflow/react/fields';
import { z } from 'zod';

/** Sends a file to the app's own upload endpoint and returns the id it gives back. */
async function upload(file: File): Promise<string> {
  const body = new FormData();
  body.append('file', file);
  const response = await fetch('/api/uploads', { method: 'POST', body });
  return ((await response.json()) as { id: string }).id;
}

const membership = action({
  id: 'membership',
  title: 'Become a member',
  schema: z.object({
    country: z.enum(['DE', 'FR', 'NL'], 'Choose your country'),
    plan: z.enum(['basic', 'premium'], 'Choose a plan'),
    newsletter: z.coerce.boolean().default(false),
    terms: z.coerce.boolean().refine(Boolean, 'Accept the terms to continue'),
    note: z.string().max(200, 'Keep it under 200 characters'),
    passport: z.instanceof(File, { error: 'Add a scan of your passport' }),
  }),
  // The task's data is stored (IndexedDB, the server): keep the upload's id, not the File.
  submit: async (_data, { passport, ...rest }) => outcome.complete({ ...rest, passport: await upload(passport) }),
});
export const join = defineFlow({ id: 'join', title: 'Join the club', children: [membership] });

export const views: StepViews = {
  membership: () => (
    <StepForm>
      <Select
        name="country"
        label="Country"
        placeholder="Choose…"
        options={[
          { value: 'DE', label: 'Germany' },
          { value: 'FR', label: 'France' },
          { value: 'NL', label: 'The Netherlands' },
        ]}
      />
      <RadioGroup
        name="plan"
        label="Plan"
        options={[
          { value: 'basic', label: 'Basic' },
          { value: 'premium', label: 'Premium' },
        ]}
      />
      <Checkbox name="newsletter" label="Send me the newsletter" />
      <Checkbox name="terms" label="I accept the terms" />
      <TextArea name="note" label="Anything we should know?" rows={3} />
      <FileField name="passport" label="A scan of your passport" accept="image/*,.pdf" />
    </StepForm>
  ),
};

const store = memoryStore();

export const JoinApp = () => (
  <WayflowProvider store={store}>
    <FlowView flow={join} views={views} completed={<h1>Welcome to the club</h1>} />
  </WayflowProvider>
);
