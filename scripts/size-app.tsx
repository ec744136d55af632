// The app `npm run size` measures wayflow's share of: React, IndexedDB, a path per step, with
// no schema library of its own (so a bundle holding zod would be wayflow's fault).
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Route, Routes } from 'react-router';
import { action, defineFlow, scaffold } from 'wayflow';
import { indexedDbStore } from 'wayflow/persist';
import { Field, StepForm, type StepViews, useTask, WayflowProvider } from 'wayflow/react';
import { FlowLink, FlowRoutes } from 'wayflow/router';

const details = action({ id: 'details', title: 'About you' });
const kind = scaffold({
  id: 'kind',
  title: 'What kind of account?',
  transitions: 'choice',
  children: [action({ id: 'personal', title: 'Personal', auto: true }), action({ id: 'business', title: 'Business', auto: true })],
});
const review = action({ id: 'review', title: 'Open the account', submit: async (_data, _input, { stepKey }) => void (await fetch(`/accounts/${stepKey}`, { method: 'PUT' })) });
const openAccount = defineFlow({ id: 'open-account', title: 'Open an account', children: [details, kind, review] });

function Review() {
  const { data } = useTask<typeof openAccount>();
  return (
    <StepForm submitLabel="Open my account">
      <p>A {data.kind ?? 'personal'} account</p>
      <FlowLink step="details">Change your details</FlowLink>
    </StepForm>
  );
}

const views: StepViews<typeof openAccount> = {
  details: () => (
    <StepForm>
      <Field name="name" label="Full name" />
    </StepForm>
  ),
  review: Review,
};

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <WayflowProvider store={indexedDbStore()}>
      <BrowserRouter>
        <Routes>
          <Route path="/open/*" element={<FlowRoutes flow={openAccount} views={views} completed={<h1>Your account is open</h1>} />} />
        </Routes>
      </BrowserRouter>
    </WayflowProvider>
  </StrictMode>,
);
