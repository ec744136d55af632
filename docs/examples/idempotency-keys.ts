import { action, defineFlow, outcome, startTask } from 'wayflow';

// A fake bank and payment gateway: a key seen before returns what was done with it.
const accounts = new Map<string, string>();
const payments = new Map<string, number>();
const bank = {
  open: async (key: string) => accounts.get(key) ?? accounts.set(key, `acct-${accounts.size + 1}`).get(key)!,
  charge: async (key: string, cents: number) => payments.get(key) ?? payments.set(key, cents).get(key)!,
};

const details = action({ id: 'details', title: 'About you' });
// One account per task, however often the user goes Back and submits again: the step key.
const open = action({
  id: 'open',
  title: 'Open the account',
  submit: async (_data, _input, { stepKey }) => outcome.complete({ account: await bank.open(stepKey) }),
});
// The deposit may be changed after going Back: each visit is a new charge, retries of one visit are not.
const deposit = action({
  id: 'deposit',
  title: 'First deposit',
  submit: async (_data, input: unknown, { idempotencyKey }) => outcome.complete({ charged: await bank.charge(idempotencyKey, Number(input)) }),
});
const done = action({ id: 'done', title: 'Done' });
const flow = defineFlow({ id: 'open-account', title: 'Open an account', children: [details, open, deposit, done] });

const task = await startTask(flow);
await task.submit(); // details
await task.submit(); // open: opens acct-1
await task.submit(500); // deposit: charges 500
await task.back(); // back to the deposit
await task.back(); // back to opening the account
await task.submit(); // open again: the same account
await task.submit(700); // a new visit of the deposit: a new charge
console.log(task.state.data.account, accounts.size); // "acct-1" 1
console.log(task.state.data.charged, payments.size); // 700 2
