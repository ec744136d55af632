import {
  action,
  defineFlow,
  type Flow,
  orGoTo,
  outcome,
  precondition,
  requiredState,
  scaffold,
  signedIn,
  type FlowNode,
} from '../../src/core/index.ts';
import type { CheckoutServices, DemoUser } from './fakes.ts';
import {
  addressSchema,
  bankAccountSchema,
  cardSchema,
  loginSchema,
  paypalSchema,
  quantitySchema,
  registerSchema,
  resetCodeSchema,
  resetEmailSchema,
  resetPasswordSchema,
  savedMethodSchema,
} from './schemas.ts';

/** A product the checkout sells. */
export interface Product {
  sku: string;
  name: string;
  priceCents: number;
}

/** The product the demo sells when the task starts without one. */
export const demoProduct: Product = { sku: 'wf-handbook', name: 'The Wayflow Handbook', priceCents: 2900 };

/** How the user pays, as stored in the task data. */
export type Payment =
  | { kind: 'saved'; methodId: string; label: string }
  | { kind: 'card'; holder: string; last4: string; expiry: string }
  | { kind: 'bank'; holder: string; ibanLast4: string; address: Record<string, string> }
  | { kind: 'paypal'; email: string };

/**
 * The purchase flow from the django-flows README: confirm the item, say who
 * you are (log in, register, or reset a forgotten password), choose how to pay
 * (a saved method, or a new card, bank account with address, or PayPal), then
 * confirm and pay. `options.after` appends steps after payment (the demo places the order
 * with the fulfilment automation and waits for its approval).
 */
export function createCheckoutFlow(services: CheckoutServices, options: { after?: readonly FlowNode[] } = {}): Flow {
  const { accounts, payments } = services;

  const product = action({
    id: 'product',
    title: 'Do you want to buy this?',
    schema: quantitySchema,
    submit: (data, { quantity }) => outcome.complete({ item: { ...((data.product as Product) ?? demoProduct), quantity } }),
  });

  const login = action({
    id: 'login',
    title: 'Log in to your account',
    schema: loginSchema,
    async submit(_data, { email, password }) {
      const user = await accounts.login(email, password);
      if (!user) return outcome.fail('That email and password do not match.', { password: ['Wrong email or password'] });
      return outcome.complete(undefined, user);
    },
  });

  const register = action({
    id: 'register',
    title: 'Create an account',
    schema: registerSchema,
    async submit(_data, { name, email, password }) {
      const user = await accounts.register(name, email, password);
      if (!user) return outcome.fail('An account with this email exists; log in instead.', { email: ['Already registered'] });
      return outcome.complete(undefined, user);
    },
  });

  const resetEmail = action({
    id: 'resetEmail',
    path: 'email',
    title: 'Enter your email address',
    schema: resetEmailSchema,
    async submit(_data, { email }) {
      await accounts.sendResetCode(email);
      return outcome.complete({ resetEmail: email });
    },
  });

  const resetCode = action({
    id: 'resetCode',
    path: 'code',
    title: 'Enter your confirmation code',
    schema: resetCodeSchema,
    preconditions: [orGoTo(requiredState('resetEmail'), 'resetEmail')],
    async submit(data, { code }) {
      if (!(await accounts.checkResetCode(String(data.resetEmail), code))) {
        return outcome.fail('That code is not the one we sent.', { code: ['Wrong code'] });
      }
      return outcome.complete({ resetCode: code });
    },
  });

  const resetPassword = action({
    id: 'resetPassword',
    path: 'new-password',
    title: 'Reset your password',
    schema: resetPasswordSchema,
    preconditions: [orGoTo(requiredState('resetEmail', 'resetCode'), 'resetEmail')],
    async submit(data, { password }) {
      const user = await accounts.resetPassword(String(data.resetEmail), String(data.resetCode), password);
      if (!user) return outcome.fail('The reset code expired; ask for a new one.');
      return outcome.complete({ resetEmail: undefined, resetCode: undefined }, user);
    },
  });

  const forgotPassword = scaffold({
    id: 'forgotPassword',
    path: 'forgot-password',
    title: 'I forgot my password',
    children: [resetEmail, resetCode, resetPassword],
  });

  const identify = scaffold({
    id: 'identify',
    title: 'Tell us who you are',
    transitions: 'choice',
    children: [login, register, forgotPassword],
  });

  const savedMethod = action({
    id: 'savedMethod',
    path: 'saved',
    title: 'Use a payment method you saved',
    schema: savedMethodSchema,
    preconditions: [precondition('hasSavedMethod', ({ user }) => ((user as DemoUser | null)?.savedMethods?.length ?? 0) > 0)],
    submit(_data, { methodId }, { user }) {
      const method = (user as DemoUser).savedMethods.find((m) => m.id === methodId);
      if (!method) return outcome.fail('Choose one of your saved methods.', { methodId: ['Unknown method'] });
      return outcome.complete({ payment: { kind: 'saved', methodId, label: method.label } satisfies Payment });
    },
  });

  const card = action({
    id: 'card',
    title: 'Credit card',
    schema: cardSchema,
    submit: (_data, { holder, number, expiry }) =>
      outcome.complete({ payment: { kind: 'card', holder, last4: number.slice(-4), expiry } satisfies Payment }),
  });

  const bankAccount = action({
    id: 'bankAccount',
    path: 'account',
    title: 'Bank account details',
    schema: bankAccountSchema,
    submit: (_data, { holder, iban }) => outcome.complete({ bankAccount: { holder, ibanLast4: iban.slice(-4) } }),
  });

  const accountAddress = action({
    id: 'accountAddress',
    path: 'address',
    title: 'Account address',
    schema: addressSchema,
    preconditions: [orGoTo(requiredState('bankAccount'), 'bankAccount')],
    submit: (data, address) => {
      const account = data.bankAccount as { holder: string; ibanLast4: string };
      return outcome.complete({ bankAccount: undefined, payment: { kind: 'bank', ...account, address } satisfies Payment });
    },
  });

  const bank = scaffold({ id: 'bank', title: 'Bank account', children: [bankAccount, accountAddress] });

  const paypal = action({
    id: 'paypal',
    title: 'PayPal',
    schema: paypalSchema,
    submit: (_data, { email }) => outcome.complete({ payment: { kind: 'paypal', email } satisfies Payment }),
  });

  const newMethod = scaffold({
    id: 'newMethod',
    path: 'new',
    title: 'Enter a new payment method',
    transitions: 'choice',
    children: [card, bank, paypal],
  });

  const pay = scaffold({
    id: 'pay',
    title: 'Choose how to pay',
    transitions: 'choice',
    preconditions: [orGoTo(signedIn(), 'identify')],
    children: [savedMethod, newMethod],
  });

  const confirm = action({
    id: 'confirm',
    title: 'Confirm and pay',
    preconditions: [requiredState('item', 'payment'), signedIn()],
    async submit(data, _input, { idempotencyKey }) {
      const item = data.item as Product & { quantity: number };
      const payment = data.payment as Payment;
      const charge = await payments.charge(idempotencyKey, item.priceCents * item.quantity, payment.kind);
      return outcome.complete({ order: { id: `order-${charge.id}`, chargeId: charge.id, amountCents: charge.amountCents } });
    },
  });

  return defineFlow({
    id: 'checkout',
    version: 1,
    title: 'Checkout',
    children: [product, identify, pay, confirm, ...(options.after ?? [])],
  });
}
