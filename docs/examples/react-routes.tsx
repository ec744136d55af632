import { StrictMode } from 'react';
import { BrowserRouter, Link, Route, Routes } from 'react-router';
import { indexedDbStore } from 'wayflow/persist';
import { StepForm, type StepViews, WayflowProvider } from 'wayflow/react';
import { FlowLink, FlowRoutes } from 'wayflow/router';
import { openAccount, views } from './react-views.tsx';

const store = indexedDbStore();
const routedViews: StepViews<typeof openAccount> = {
  ...views,
  review: () => (
    <StepForm submitLabel="Open my account">
      <FlowLink step="details">Change your details</FlowLink>
    </StepForm>
  ),
};

/** The flow at /open/*: a path per step (/open/details, /open/kind, /open/review), the task id in `_id`. */
export const RoutedApp = () => (
  <StrictMode>
    <WayflowProvider store={store}>
      <BrowserRouter>
        <Routes>
          <Route path="/" element={<Link to="/open">Open an account</Link>} />
          <Route
            path="/open/*"
            element={
              <FlowRoutes
                flow={openAccount}
                views={routedViews}
                completed={
                  <>
                    <h1>Your account is open</h1>
                    <Link to="/">Home</Link>
                  </>
                }
              />
            }
          />
        </Routes>
      </BrowserRouter>
    </WayflowProvider>
  </StrictMode>
);
