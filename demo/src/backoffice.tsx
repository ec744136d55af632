import { useEffect, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import type { Approval } from '../../flows/fulfilment/schemas.ts';
import { Field, StepForm, useField, useTask } from '../../src/react/index.ts';
import { AutomationDashboard, AutomationFormTask, AutomationInstance, AutomationMap, AutomationTaskList } from '../../src/react/automations/index.ts';
import type { FulfilmentOrder } from '../../flows/fulfilment/schemas.ts';
import { Funnel } from '../../src/react/funnel/index.ts';
import { ProcessMap } from '../../src/react/map/index.ts';
import type { FunnelsResponse } from '../../src/sync/index.ts';
import { approval, automations } from './services.ts';

const COOKIE = 'wayflow_demo_user';
const euros = (cents: number) => `€${(cents / 100).toFixed(2)}`;
const signedIn = () => document.cookie.split(';').some((part) => part.trim() === `${COOKIE}=backoffice`);

/**
 * DEMO ONLY: switches this browser to the back-office identity by a plain cookie the demo
 * server's `authenticate` reads (demo/server/automations.ts). Real apps sign users in.
 */
function setIdentity(backOffice: boolean) {
  // biome-ignore lint/suspicious/noDocumentCookie: a synchronous demo switch; the Cookie Store API is async and not in every browser
  document.cookie = backOffice ? `${COOKIE}=backoffice; path=/; SameSite=Lax` : `${COOKIE}=; path=/; max-age=0; SameSite=Lax`;
}

/** The back office's task list: the approval forms waiting for the `backoffice` group. */
export function BackOfficePage() {
  const navigate = useNavigate();
  const [backOffice, setBackOffice] = useState(signedIn);
  const switchTo = (value: boolean) => {
    setIdentity(value);
    setBackOffice(value);
  };
  return (
    <section className="card">
      <h1>Back office</h1>
      {backOffice ? (
        <>
          <p>
            Signed in as the back office (a demo identity).{' '}
            <button type="button" onClick={() => switchTo(false)}>
              Sign out
            </button>
          </p>
          <AutomationTaskList
            key="backoffice"
            client={automations}
            caption="Orders waiting for approval"
            onOpen={(form) => navigate(`/backoffice/forms/${form.instanceId}/${form.taskId}`)}
          />
          <p>
            <Link to="/backoffice/dashboard">Automations dashboard</Link> · <Link to="/backoffice/map">Order fulfilment, live</Link> ·{' '}
            <Link to="/backoffice/funnel">Checkout funnel</Link>
          </p>
        </>
      ) : (
        <>
          <p>Orders wait here for a colleague of the group “backoffice” to approve them. Use another browser or a private window, so the shopper stays signed out.</p>
          <AutomationTaskList key="anonymous" client={automations} caption="Tasks you may process" onOpen={(form) => navigate(`/backoffice/forms/${form.instanceId}/${form.taskId}`)} />
          <button type="button" onClick={() => switchTo(true)}>
            Sign in as the back office (demo)
          </button>
        </>
      )}
    </section>
  );
}

function ApproveStep() {
  const { data } = useTask();
  const order = data.order as FulfilmentOrder;
  const decision = useField('decision');
  const draft = decision.input.defaultValue as Approval['decision'] | undefined;
  return (
    <StepForm submitLabel="Submit decision">
      <dl className="summary">
        <dt>Order</dt>
        <dd>{order.orderId}</dd>
        <dt>Item</dt>
        <dd>
          {order.item.quantity} × {order.item.name}
        </dd>
        <dt>Total</dt>
        <dd>{euros(order.amountCents)}</dd>
        <dt>Shopper’s note</dt>
        <dd>{(data.shopperNote as string | null) ?? '—'}</dd>
      </dl>
      <fieldset aria-describedby={decision.input['aria-describedby']}>
        <legend>Decision</legend>
        <label>
          <input type="radio" name="decision" value="approve" defaultChecked={draft === 'approve'} /> Approve
        </label>
        <label>
          <input type="radio" name="decision" value="reject" defaultChecked={draft === 'reject'} /> Reject
        </label>
      </fieldset>
      {decision.error && <p {...decision.error.props}>{decision.error.text}</p>}
      <Field name="note" label="Note to the shopper (required to reject)" />
    </StepForm>
  );
}

/** One approval form, opened as a step of a browser flow validated by the automation's own schema. */
export function BackOfficeFormPage() {
  const { instanceId = '', taskId = '' } = useParams();
  return (
    <AutomationFormTask
      client={automations}
      form={{ instanceId, taskId: Number(taskId) }}
      flow={approval}
      views={{ approve: ApproveStep }}
      completed={
        <div className="card">
          <h1>Decision recorded</h1>
          <p>
            The shopper sees it now. <Link to="/backoffice">Back to the task list</Link>
          </p>
        </div>
      }
    />
  );
}

/** Automations by kind, with how many instances wait at each node. */
export function DashboardPage() {
  const navigate = useNavigate();
  return (
    <section className="card">
      <h1>Automations dashboard</h1>
      <p>
        <Link to="/backoffice/map">Order fulfilment, live</Link>
      </p>
      <AutomationDashboard client={automations} onInspect={(id) => navigate(`/backoffice/instances/${id}`)} map={(props) => <ProcessMap {...props} />} />
    </section>
  );
}

/** The live process map of the order fulfilment automation: choose a step to list the orders waiting there. */
export function MapPage() {
  const navigate = useNavigate();
  return (
    <section className="card">
      <h1>Order fulfilment, live</h1>
      <p>Each step shows the orders waiting there now · the orders that passed it (· errors!). It changes as orders move; choose a step to list its orders.</p>
      <AutomationMap
        client={automations}
        automation="OrderFulfilment"
        map={(props) => <ProcessMap {...props} />}
        onInspect={(id) => navigate(`/backoffice/instances/${id}`)}
      />
      <p>
        <Link to="/backoffice/dashboard">Automations dashboard</Link>
      </p>
    </section>
  );
}

/** One automation instance: its status, live, its automation drawn with what it did at each step, and its history. */
export function InstancePage() {
  const { instanceId = '' } = useParams();
  return (
    <section className="card">
      <h1>Automation instance</h1>
      <AutomationInstance client={automations} instanceId={instanceId} map={(props) => <ProcessMap {...props} />} />
      <p>
        <Link to="/backoffice/dashboard">Back to the dashboard</Link>
      </p>
    </section>
  );
}

/** The windows the funnel page offers. */
const WINDOWS = [
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
  ['30d', 'Last 30 days'],
] as const;

/** Where shoppers give up in the checkout: the funnel of each version of the flow (GET /funnels/checkout), for the back office. */
export function FunnelPage() {
  const [since, setSince] = useState('7d');
  const [answer, setAnswer] = useState<FunnelsResponse | { error: string } | null>(null);
  useEffect(() => {
    let current = true;
    setAnswer(null);
    fetch(`/funnels/checkout?since=${since}`).then(async (response) => {
      const body = await response.json();
      if (!current) return;
      if (response.ok) setAnswer(body as FunnelsResponse);
      else setAnswer({ error: response.status === 404 || response.status === 403 ? 'Sign in as the back office to see the checkout funnel.' : body.error.message });
    });
    return () => {
      current = false;
    };
  }, [since]);
  return (
    <section className="card">
      <h1>Checkout funnel</h1>
      <p>
        Of the checkouts started in the window: how many reached each step, where shoppers gave up, which fields were refused and how
        long each step took. Run <code>npm run demo:traffic</code> for a few hundred simulated shoppers.
      </p>
      <label>
        Window{' '}
        <select value={since} onChange={(event) => setSince(event.target.value)}>
          {WINDOWS.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      {answer === null ? (
        <p aria-live="polite">Counting…</p>
      ) : 'error' in answer ? (
        <p role="alert">{answer.error}</p>
      ) : answer.funnels.length === 0 ? (
        <p>No checkout was started in this window.</p>
      ) : (
        answer.funnels.map((funnel) => (
          <section key={funnel.flowVersion} aria-label={`Checkout version ${funnel.flowVersion}`}>
            <h2>{`Version ${funnel.flowVersion}: ${funnel.started} started, ${funnel.completed} paid, ${funnel.abandoned} gave up, ${funnel.inProgress} on their way`}</h2>
            <Funnel title={`Checkout version ${funnel.flowVersion}`} funnel={funnel} />
            <h3>Back and go-to moves</h3>
            <ul aria-label="Back and go-to moves">
              {funnel.backMoves.map((move) => (
                <li key={`${move.from}>${move.to}`}>{`${move.from} → ${move.to}: ${move.count}`}</li>
              ))}
            </ul>
          </section>
        ))
      )}
      <p>
        <Link to="/backoffice">Back office</Link>
      </p>
    </section>
  );
}
