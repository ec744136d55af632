import { createBrowserRouter, Link, Outlet, RouterProvider } from 'react-router';
import { WayflowProvider } from '../../src/react/index.ts';
import { SaveStatus } from '../../src/react/save/index.ts';
import { FlowRoutes } from '../../src/router/index.ts';
import { checkout } from './services.ts';
import { store } from './store.ts';
import { BackOfficeFormPage, BackOfficePage, DashboardPage, FunnelPage, InstancePage, MapPage } from './backoffice.tsx';
import { TasksPage } from './tasks.tsx';
import { Completed, views } from './views.tsx';

function Layout() {
  return (
    <>
      <header className="topbar">
        <Link to="/" className="brand">
          wayflow shop
        </Link>
        <nav>
          <Link to="/checkout">Buy the handbook</Link>
          <Link to="/tasks">Tasks in progress</Link>
          <Link to="/backoffice">Back office</Link>
        </nav>
        <SaveStatus />
      </header>
      <main className="page">
        <Outlet />
      </main>
    </>
  );
}

function Home() {
  return (
    <section className="card">
      <h1>The Wayflow Handbook</h1>
      <p>Everything about multi-step flows that survive reloads, tabs and back buttons. €29.00.</p>
      <Link className="button" to="/checkout">
        Buy it
      </Link>
    </section>
  );
}

const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { path: '/', element: <Home /> },
      { path: '/checkout/*', element: <FlowRoutes flow={checkout} views={views} completed={<Completed />} /> },
      { path: '/tasks', element: <TasksPage store={store} /> },
      { path: '/backoffice', element: <BackOfficePage /> },
      { path: '/backoffice/forms/:instanceId/:taskId', element: <BackOfficeFormPage /> },
      { path: '/backoffice/dashboard', element: <DashboardPage /> },
      { path: '/backoffice/map', element: <MapPage /> },
      { path: '/backoffice/funnel', element: <FunnelPage /> },
      { path: '/backoffice/instances/:instanceId', element: <InstancePage /> },
    ],
  },
]);

/** The demo shop: the checkout flow with a path per step, and a list of the tasks in progress in this browser. */
export function App() {
  return (
    <WayflowProvider store={store}>
      <RouterProvider router={router} />
    </WayflowProvider>
  );
}
