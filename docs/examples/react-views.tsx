import { StrictMode } from 'react';
import { action, defineFlow, scaffold } from 'wayflow';
import { indexedDbStore } from 'wayflow/persist';
import { Field, FlowView, StepForm, type StepViews, useField, WayflowProvider } from 'wayflow/react';
import { z } from 'zod';

const details = action({
  id: 'details',
  title: 'About you',
  schema: z.object({
    name: z.string().min(1, 'Enter your name'),
    age: z.number('Enter your age').int().min(18, 'You must be 18 or older'),
    country: z.enum(['DE', 'FR', 'NL'], 'Choose your country'),
  }),
});
const kind = scaffold({
  id: 'kind',
  title: 'What kind of account?',
  transitions: 'choice',
  children: [action({ id: 'personal', title: 'Personal', auto: true }), action({ id: 'business', title: 'Business', auto: true })],
});
const review = action({ id: 'review', title: 'Open the account' });
export const openAccount = defineFlow({ id: 'open-account', title: 'Open an account', children: [details, kind, review] });

/** A custom field: `useField` gives the id, the name, the draft and the error, linked for screen readers. */
function CountryField() {
  const { id, input, error } = useField('country');
  return (
    <div className="wayflow-field">
      <label htmlFor={id}>Country</label>
      <select {...input}>
        <option value="">Choose…</option>
        <option value="DE">Germany</option>
        <option value="FR">France</option>
        <option value="NL">The Netherlands</option>
      </select>
      {error && <p {...error.props}>{error.text}</p>}
    </div>
  );
}

/**
 * One view per step id of the flow (a misspelt id is a type error); the choice step keeps its
 * default view (radio buttons). `task.data` is typed by the flow: no casts.
 */
export const views: StepViews<typeof openAccount> = {
  details: () => (
    <StepForm toInput={(values) => ({ ...values, age: values.age === '' ? undefined : Number(values.age) })}>
      <Field name="name" label="Full name" autoComplete="name" />
      <Field name="age" label="Age" inputMode="numeric" />
      <CountryField />
    </StepForm>
  ),
  review: ({ task }) => (
    <StepForm submitLabel="Open my account">
      <p>
        {task.data.details?.name}, a {task.data.kind} account
      </p>
    </StepForm>
  ),
};

const store = indexedDbStore();

export const App = () => (
  <StrictMode>
    <WayflowProvider store={store}>
      <FlowView flow={openAccount} views={views} completed={<h1>Your account is open</h1>} />
    </WayflowProvider>
  </StrictMode>
);
