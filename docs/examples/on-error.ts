import { action, defineFlow, startTask } from 'wayflow';

// An automatic step that charges a card; when it fails the task goes to "declined" (its
// onError target, as django-fsm's on_error) instead of waiting for retry().
const charge = action({
  id: 'charge',
  title: 'Charging your card',
  auto: true,
  onError: 'declined',
  submit: async () => {
    throw new Error('card declined');
  },
});
const receipt = action({ id: 'receipt', title: 'Receipt' });
const declined = action({ id: 'declined', title: 'Payment declined' });
const payment = defineFlow({ id: 'payment', title: 'Payment', children: [charge, receipt, declined] });

const task = await startTask(payment);
console.log(task.state.step?.id); // "declined"
console.log(task.state.error?.message); // "...: step "charge" failed (card declined). The task moved to its onError target "declined"."
console.log(task.toRecord().history.at(-1)?.event); // "error"
