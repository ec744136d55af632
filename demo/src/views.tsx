import { type FormEvent, useEffect, useState } from 'react';
import type { DemoUser, Payment, Product } from '../../flows/checkout/index.ts';
import type { ApprovalResult } from '../../flows/fulfilment/browser.ts';
import { shopperNoteSchema } from '../../flows/fulfilment/schemas.ts';
import { StartAutomationView } from '../../src/react/automations/index.ts';
import { Field, StepForm, type StepViewProps, type StepViews, useField, useTask } from '../../src/react/index.ts';
import { followAutomations, type InstanceStatus, SyncError } from '../../src/sync/index.ts';
import { automations, services } from './services.ts';

const euros = (cents: number) => `€${(cents / 100).toFixed(2)}`;

function ProductStep() {
  const { data } = useTask();
  const product = (data.product as Product | undefined) ?? { name: 'The Wayflow Handbook', priceCents: 2900 };
  return (
    <StepForm>
      <p>
        <strong>{product.name}</strong>, {euros(product.priceCents)} each.
      </p>
      <Field name="quantity" label="Quantity" type="number" min={1} max={10} inputMode="numeric" defaultValue="1" />
    </StepForm>
  );
}

function LoginStep() {
  return (
    <StepForm>
      <p className="hint">Demo account: ada@example.com / analytical</p>
      <Field name="email" label="Email" type="email" autoComplete="username" />
      <Field name="password" label="Password" type="password" autoComplete="current-password" />
    </StepForm>
  );
}

function RegisterStep() {
  return (
    <StepForm>
      <Field name="name" label="Full name" autoComplete="name" />
      <Field name="email" label="Email" type="email" autoComplete="email" />
      <Field name="password" label="Password (8 characters or more)" type="password" autoComplete="new-password" />
    </StepForm>
  );
}

function ResetEmailStep() {
  return (
    <StepForm>
      <p className="hint">Demo accounts: ada@example.com, alan@example.com</p>
      <Field name="email" label="Email" type="email" autoComplete="email" />
    </StepForm>
  );
}

function ResetCodeStep() {
  const { data } = useTask();
  const code = services.accounts.outbox.get(String(data.resetEmail));
  return (
    <StepForm>
      <p className="hint">{code ? `Demo inbox: your code is ${code}.` : 'If that address has an account, a code is on its way.'}</p>
      <Field name="code" label="Confirmation code" inputMode="numeric" autoComplete="one-time-code" />
    </StepForm>
  );
}

function ResetPasswordStep() {
  return (
    <StepForm>
      <Field name="password" label="New password" type="password" autoComplete="new-password" />
      <Field name="confirm" label="Repeat the new password" type="password" autoComplete="new-password" />
    </StepForm>
  );
}

function SavedMethodStep() {
  const { user } = useTask();
  const { error, input } = useField('methodId');
  return (
    <StepForm>
      <fieldset aria-describedby={input['aria-describedby']}>
        <legend>Saved methods</legend>
        {(user as DemoUser | null)?.savedMethods.map((m, i) => (
          <label key={m.id}>
            <input type="radio" name="methodId" value={m.id} defaultChecked={i === 0} /> {m.label}
          </label>
        ))}
      </fieldset>
      {error && <p {...error.props}>{error.text}</p>}
    </StepForm>
  );
}

function CardStep() {
  return (
    <StepForm>
      <p className="hint">Test card: 4242 4242 4242 4242</p>
      <Field name="holder" label="Name on the card" autoComplete="cc-name" />
      <Field name="number" label="Card number" inputMode="numeric" autoComplete="cc-number" />
      <Field name="expiry" label="Expiry (MM/YY)" autoComplete="cc-exp" placeholder="MM/YY" />
      <Field name="cvc" label="Security code" inputMode="numeric" autoComplete="cc-csc" />
    </StepForm>
  );
}

function BankAccountStep() {
  return (
    <StepForm>
      <p className="hint">Test IBAN: DE89 3704 0044 0532 0130 00</p>
      <Field name="holder" label="Account holder" autoComplete="name" />
      <Field name="iban" label="IBAN" autoComplete="off" />
    </StepForm>
  );
}

function AddressStep() {
  return (
    <StepForm>
      <Field name="street" label="Street and number" autoComplete="address-line1" />
      <Field name="city" label="City" autoComplete="address-level2" />
      <Field name="postcode" label="Postcode" autoComplete="postal-code" />
      <Field name="country" label="Country code (2 letters)" autoComplete="country" maxLength={2} />
    </StepForm>
  );
}

function PaypalStep() {
  return (
    <StepForm>
      <Field name="email" label="PayPal email" type="email" autoComplete="email" />
    </StepForm>
  );
}

const describe = (payment: Payment) =>
  payment.kind === 'saved'
    ? payment.label
    : payment.kind === 'card'
      ? `Card ending ${payment.last4}`
      : payment.kind === 'bank'
        ? `Bank account ending ${payment.ibanLast4}`
        : `PayPal (${payment.email})`;

function ConfirmStep() {
  const { data, user } = useTask();
  const item = data.item as Product & { quantity: number };
  const payment = data.payment as Payment;
  return (
    <StepForm submitLabel="Confirm and pay">
      <dl className="summary">
        <dt>Item</dt>
        <dd>
          {item.quantity} × {item.name}
        </dd>
        <dt>Total</dt>
        <dd>{euros(item.priceCents * item.quantity)}</dd>
        <dt>Buyer</dt>
        <dd>{(user as DemoUser | null)?.name}</dd>
        <dt>Payment</dt>
        <dd>{describe(payment)}</dd>
      </dl>
    </StepForm>
  );
}

const stage: Record<string, string> = {
  received: 'Order received',
  approve: 'Waiting for a colleague in the back office to approve it',
  ship: 'Handing over to shipping',
};

/**
 * While the back office decides: the order's live status (pushed over Server-Sent Events,
 * re-checked every few seconds without them) and a note the shopper can send the automation.
 * Each pushed change re-runs the waiting step (a new visit, so this view mounts afresh):
 * what it shows comes from the server's status, not from local state.
 */
function AwaitApprovalStep({ task }: StepViewProps) {
  const { data } = task;
  const order = data.order as { id: string; amountCents: number };
  const instanceId = (data.fulfilment as { instanceId: string }).instanceId;
  const [status, setStatus] = useState<InstanceStatus | null>(null);
  const [note, setNote] = useState<{ error?: string }>({});
  useEffect(() => followAutomations(task.task, automations, setStatus), [task.task]);
  if (task.status !== 'suspended' && !task.pending) return <StartAutomationView />;
  const sendNote = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const parsed = shopperNoteSchema.safeParse({ note: new FormData(form).get('note') });
    if (!parsed.success) return setNote({ error: parsed.error.issues[0]?.message ?? 'Write a note' });
    try {
      await automations.send(instanceId, 'note', parsed.data);
      form.reset();
      setNote({});
    } catch (error) {
      // The user reads plain words; the server's message is for the developer.
      console.error(error);
      const decided = error instanceof SyncError && error.code === 'instance-finished';
      setNote({ error: decided ? 'The order was already decided, so the note was not sent.' : 'The note could not be sent; try again.' });
    }
  };
  return (
    <div className="waiting">
      <p>
        Order <strong>{order.id}</strong> is paid: {euros(order.amountCents)}. This page updates by itself when the back office has decided.
      </p>
      <p role="status" data-testid="fulfilment-status">
        {status ? (stage[status.nodes[0] ?? ''] ?? status.nodes.join(', ')) : 'Checking your order…'}
      </p>
      <form onSubmit={sendNote} noValidate>
        <label htmlFor="shopper-note">A note for the packer (optional)</label>
        <input id="shopper-note" name="note" maxLength={200} aria-describedby={note.error ? 'shopper-note-error' : undefined} />
        {note.error && (
          <p id="shopper-note-error" role="alert" className="wayflow-error">
            {note.error}
          </p>
        )}
        <div className="wayflow-actions">
          <button type="submit" className="secondary">
            Send note
          </button>
        </div>
        {typeof status?.data.shopperNote === 'string' && <p role="status">The packer has your note: “{status.data.shopperNote}”.</p>}
      </form>
    </div>
  );
}

/** The checkout's step views, by step id (choices use wayflow's default view). */
export const views: StepViews = {
  product: ProductStep,
  login: LoginStep,
  register: RegisterStep,
  resetEmail: ResetEmailStep,
  resetCode: ResetCodeStep,
  resetPassword: ResetPasswordStep,
  savedMethod: SavedMethodStep,
  card: CardStep,
  bankAccount: BankAccountStep,
  accountAddress: AddressStep,
  paypal: PaypalStep,
  confirm: ConfirmStep,
  placeOrder: StartAutomationView,
  awaitApproval: AwaitApprovalStep,
};

/** Shown when the checkout is done. */
export function Completed() {
  const { data } = useTask();
  const order = data.order as { id: string; amountCents: number };
  const approval = data.approval as ApprovalResult | undefined;
  return (
    <div className="card">
      <h1>{approval?.decision === 'rejected' ? 'Your order was not accepted' : 'Thank you for your order'}</h1>
      <p>
        Order <strong>{order.id}</strong> is paid: {euros(order.amountCents)}.
      </p>
      {approval && (
        <p role="status">
          {approval.decision === 'approved' ? 'Approved by the back office; it is on its way.' : 'The back office rejected it; you will be refunded.'}
          {approval.note && ` Note: ${approval.note}`}
        </p>
      )}
    </div>
  );
}
