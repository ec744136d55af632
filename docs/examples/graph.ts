import { action, defineFlow, scaffold, startTask } from 'wayflow';
import { progressOf, toDot, toMermaid } from 'wayflow/graph';

const flow = defineFlow({
  id: 'support',
  title: 'Support request',
  children: [
    scaffold({
      id: 'topic',
      title: 'What is it about?',
      transitions: 'choice',
      children: [action({ id: 'billing', title: 'Billing' }), action({ id: 'bug', title: 'A bug' })],
    }),
    action({ id: 'contact', title: 'How can we reach you?' }),
  ],
});

console.log(toMermaid(flow)); // flowchart TD … topic{"What is it about?"} …
console.log(toDot(flow)); // digraph "support" { … }

const task = await startTask(flow);
await task.submit({ choice: 'bug' });
const { current, total, steps } = progressOf(flow, task.state);
console.log(`Step ${current} of ${total}`); // "Step 2 of 3"
console.log(steps.map((s) => `${s.title} (${s.state})`).join(' → '));
// What is it about? (done) → A bug (current) → How can we reach you? (upcoming)
