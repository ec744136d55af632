import { describe, expect, it } from 'vitest';
import { createCheckoutFlow, demoServices } from '../../flows/checkout/index.ts';
import { restoreTask, startTask, type Task } from '../../src/core/index.ts';
import { memoryStore } from '../../src/persist/index.ts';

async function setup() {
  const services = demoServices();
  const flow = createCheckoutFlow(services);
  const store = memoryStore();
  const task = await startTask(flow, { store, binder: 'me' });
  return { services, flow, store, task };
}

async function step(task: Task, input?: unknown) {
  const result = await task.submit(input);
  expect(result, JSON.stringify(result)).toEqual({ ok: true });
  return task.state.step?.id ?? task.state.status;
}

const card = { holder: 'Ada Lovelace', number: '4242 4242 4242 4242', expiry: '12/30', cvc: '123' };

describe('the checkout flow', () => {
  it('logs in and pays with a new credit card', async () => {
    const { task, services } = await setup();
    expect(task.state.step).toMatchObject({ id: 'product', title: 'Do you want to buy this?', url: '/product' });
    expect(await step(task, { quantity: '2' })).toBe('identify');
    expect(task.state.step?.options.map((o) => o.id)).toEqual(['login', 'register', 'forgotPassword']);
    expect(await step(task, { choice: 'login' })).toBe('login');
    expect(await step(task, { email: 'ADA@example.com', password: 'analytical' })).toBe('pay');
    expect(task.state.user).toMatchObject({ id: 'u-ada' });
    expect(task.state.step?.options.map((o) => o.id)).toEqual(['savedMethod', 'newMethod']);
    expect(await step(task, { choice: 'newMethod' })).toBe('newMethod');
    expect(await step(task, { choice: 'card' })).toBe('card');
    expect(task.state.step?.url).toBe('/pay/new/card');
    expect(await step(task, card)).toBe('confirm');
    expect(task.state.data.payment).toEqual({ kind: 'card', holder: 'Ada Lovelace', last4: '4242', expiry: '12/30' });
    expect(await step(task)).toBe('completed');
    expect(task.state.data.order).toMatchObject({ amountCents: 5800 });
    expect([...services.payments.charges.values()]).toHaveLength(1);
  });

  it('logs in and pays with a saved method', async () => {
    const { task } = await setup();
    await step(task, { quantity: 1 });
    await step(task, { choice: 'login' });
    await step(task, { email: 'ada@example.com', password: 'analytical' });
    expect(await step(task, { choice: 'savedMethod' })).toBe('savedMethod');
    expect(await step(task, { methodId: 'pm-1' })).toBe('confirm');
    expect(task.state.data.payment).toEqual({ kind: 'saved', methodId: 'pm-1', label: 'Visa ending 4242' });
    expect(await step(task)).toBe('completed');
  });

  it('registers and pays with a bank account and its address', async () => {
    const { task } = await setup();
    await step(task, { quantity: 1 });
    expect(await step(task, { choice: 'register' })).toBe('register');
    expect(await step(task, { name: 'Grace Hopper', email: 'grace@example.com', password: 'compilers' })).toBe('pay');
    expect(task.state.step?.options.map((o) => o.id)).toEqual(['newMethod']);
    await step(task, { choice: 'newMethod' });
    expect(await step(task, { choice: 'bank' })).toBe('bankAccount');
    expect(await step(task, { holder: 'Grace Hopper', iban: 'DE89 3704 0044 0532 0130 00' })).toBe('accountAddress');
    expect(task.state.step?.url).toBe('/pay/new/bank/address');
    expect(await step(task, { street: '1 Navy Way', city: 'Arlington', postcode: '22201', country: 'US' })).toBe('confirm');
    expect(task.state.data.payment).toMatchObject({ kind: 'bank', ibanLast4: '3000', address: { city: 'Arlington' } });
    expect(task.state.data.bankAccount).toBeUndefined();
    expect(await step(task)).toBe('completed');
  });

  it('resets a forgotten password with an emailed code, then pays with PayPal', async () => {
    const { task, services } = await setup();
    await step(task, { quantity: 1 });
    expect(await step(task, { choice: 'forgotPassword' })).toBe('resetEmail');
    expect(await step(task, { email: 'alan@example.com' })).toBe('resetCode');
    const wrong = await task.submit({ code: '000000' });
    expect(wrong).toMatchObject({ ok: false, errors: { code: ['Wrong code'] } });
    const code = services.accounts.outbox.get('alan@example.com');
    expect(await step(task, { code })).toBe('resetPassword');
    const mismatch = await task.submit({ password: 'turing-test', confirm: 'turing-tset' });
    expect(mismatch).toMatchObject({ ok: false, errors: { confirm: ['The passwords differ'] } });
    expect(await step(task, { password: 'turing-test', confirm: 'turing-test' })).toBe('pay');
    expect(task.state.user).toMatchObject({ id: 'u-alan' });
    await step(task, { choice: 'newMethod' });
    expect(await step(task, { choice: 'paypal' })).toBe('paypal');
    expect(await step(task, { email: 'alan@example.com' })).toBe('confirm');
    expect(await step(task)).toBe('completed');
    expect(await services.accounts.login('alan@example.com', 'turing-test')).toMatchObject({ id: 'u-alan' });
  });

  it('refuses a wrong password with a field error and keeps what was typed', async () => {
    const { task } = await setup();
    await step(task, { quantity: 1 });
    await step(task, { choice: 'login' });
    const result = await task.submit({ email: 'ada@example.com', password: 'nope' });
    expect(result).toMatchObject({ ok: false, errors: { password: ['Wrong email or password'] } });
    expect(task.state.step).toMatchObject({ id: 'login', draft: { email: 'ada@example.com', password: 'nope' } });
  });

  it('sends a signed-out user who deep-links to payment to the sign-in step', async () => {
    const { task } = await setup();
    await step(task, { quantity: 1 });
    await step(task, { choice: 'login' });
    await step(task, { email: 'ada@example.com', password: 'analytical' });
    await task.setUser(null);
    await task.back();
    await task.back();
    expect(task.state.step?.id).toBe('identify');
    await step(task, { choice: 'register' });
    expect(await step(task, { name: 'Ed', email: 'ed@example.com', password: 'password1' })).toBe('pay');
  });

  it('goes back from confirm to change the payment method, and forgets the old one', async () => {
    const { task } = await setup();
    await step(task, { quantity: 1 });
    await step(task, { choice: 'login' });
    await step(task, { email: 'ada@example.com', password: 'analytical' });
    await step(task, { choice: 'newMethod' });
    await step(task, { choice: 'card' });
    await step(task, card);
    await task.goTo('newMethod');
    expect(task.state.data.payment).toBeUndefined();
    await step(task, { choice: 'paypal' });
    expect(await step(task, { email: 'ada@example.com' })).toBe('confirm');
    expect(task.state.data.payment).toEqual({ kind: 'paypal', email: 'ada@example.com' });
  });

  it('charges once when "Confirm and pay" is clicked twice', async () => {
    const services = demoServices({ latencyMs: 20 });
    const task = await startTask(createCheckoutFlow(services), {});
    await step(task, { quantity: 1 });
    await step(task, { choice: 'login' });
    await step(task, { email: 'ada@example.com', password: 'analytical' });
    await step(task, { choice: 'savedMethod' });
    await step(task, { methodId: 'pm-1' });
    const [first, second] = await Promise.all([task.submit(), task.submit()]);
    expect(first).toEqual({ ok: true });
    expect(second).toEqual({ ok: true });
    expect(services.payments.charges.size).toBe(1);
  });

  it('resumes from the store where the user left, inputs included', async () => {
    const { task, flow, store } = await setup();
    await step(task, { quantity: 3 });
    await step(task, { choice: 'login' });
    await task.saveDraft({ email: 'ada@example.com' });
    const record = await store.get(task.id, 'me');
    const resumed = await restoreTask(flow, record!, { store, binder: 'me' });
    expect(resumed.state.step).toMatchObject({ id: 'login', draft: { email: 'ada@example.com' } });
    expect(resumed.state.data.item).toMatchObject({ quantity: 3 });
    expect(await step(resumed, { email: 'ada@example.com', password: 'analytical' })).toBe('pay');
  });
});
