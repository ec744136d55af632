import { z } from 'zod';
import { action, defineFlow, outcome, scaffold, startTask } from 'wayflow';
import { memoryStore } from 'wayflow/persist';

const email = action({ id: 'email', title: 'Your email', schema: z.object({ email: z.email() }) });
const free = action({ id: 'free', title: 'Free plan' });
const pro = action({
  id: 'pro',
  title: 'Pro plan',
  schema: z.object({ seats: z.coerce.number().int().min(1) }),
  submit: (_data, { seats }) => outcome.complete({ price: seats * 10 }),
});
const plan = scaffold({ id: 'plan', title: 'Pick a plan', transitions: 'choice', children: [free, pro] });
const done = action({ id: 'review', title: 'Review' });
const signup = defineFlow({ id: 'signup', title: 'Sign up', children: [email, plan, done] });

const task = await startTask(signup, { store: memoryStore() });
console.log(task.state.step?.title); // "Your email"

console.log(await task.submit({ email: 'not an email' })); // { ok: false, errors: { email: [...] }, ... }
await task.submit({ email: 'ada@example.com' });
await task.submit({ choice: 'pro' });
await task.submit({ seats: '3' });
// Typed by the flow, no casts: data.email is { email: string } | undefined, data.plan is the
// choice made ('free' | 'pro' | undefined), data.price (written by pro's submit) is number | undefined.
const { data } = task.state;
console.log(task.state.step?.id, data.email?.email, data.plan, data.price); // "review" "ada@example.com" "pro" 30

await task.back(); // to "pro", with { seats: '3' } as its draft
console.log(task.state.step?.draft); // { seats: '3' }
