import { action, defineFlow, outcome, startTask, type TaskState } from 'wayflow';
import { automationClient, awaitAutomation, followAutomations, startAutomation } from 'wayflow/sync';

// Same origin, the session cookie goes along; without EventSource (here: Node) it polls every second.
const client = automationClient({ pollMs: 1000 });

const checkout = defineFlow({
  id: 'checkout-fulfilment',
  title: 'Your order',
  children: [
    // Runs once per visit: the task's idempotency key makes a retry return the same instance.
    startAutomation({ id: 'place', title: 'Placing your order', client, automation: 'OrderFulfilment', input: (data) => data.order, as: 'fulfilment' }),
    awaitAutomation({
      id: 'wait',
      title: 'Waiting for the warehouse',
      client,
      instance: (data) => (data.fulfilment as { instanceId: string }).instanceId,
      // Done once the order shipped; the decision joins the task data.
      until: (status) => status.data.shipped === true && { decision: status.data.decision },
      // A browser message from the automation (SendMessage with the { browser: true } target).
      on: { cancelled: (payload) => outcome.abort(String(payload.reason)) },
    }),
    action({ id: 'shipped', title: 'On its way' }),
  ],
});

const order = { orderId: 'order-42', amountCents: 1999, item: { name: 'Teapot', quantity: 1 }, customer: 'ada@example.com' };
const task = await startTask(checkout, { data: { order } });
console.log(task.state.status, task.state.step?.id); // "suspended wait": the step re-checks every 5 s by itself

// Re-check as soon as the server pushes a new status; stop following when done.
const unfollow = followAutomations(task, client);
const waiting = (state: TaskState) => state.status === 'suspended';
if (waiting(task.state)) await new Promise((resolve) => task.subscribe((state) => waiting(state) || resolve(state)));
unfollow();
console.log(task.state.step?.id, task.state.data.decision); // "shipped approve"
