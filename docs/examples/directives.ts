import { action, defineFlow, outcome, startTask } from 'wayflow';

// A quiz that asks a question until three answers are in. The round is a loop: an automatic
// action that ENTERs its children, and whose returnFromChildren ENTERs them again while the
// quiz goes on (django-flowcontrol's While loop). LEAVE goes back to the round, BREAK past it.
let asked = 0;
const question = action({
  id: 'question',
  title: 'Answer the question',
  submit: (_data, input: unknown) => {
    asked++;
    return input === 'give up' ? outcome.break() : outcome.leave({ asked });
  },
});
const round = action({
  id: 'round',
  title: 'Round',
  auto: true,
  children: [question],
  submit: () => outcome.enter(),
  returnFromChildren: (data) => ((data.asked as number) < 3 ? outcome.enter() : outcome.continue()),
});
const results = action({ id: 'results', title: 'Results' });
const quiz = defineFlow({ id: 'quiz', title: 'Quiz', children: [round, results] });

const task = await startTask(quiz);
await task.submit('a');
await task.submit('b');
console.log(task.state.step?.id, task.state.step?.visit); // "question" 3
await task.submit('give up');
console.log(task.state.step?.id); // "results"

// SUSPEND pauses until a time, then continues; SUSPEND_AND_REPEAT runs the step again.
const wait = action({ id: 'wait', title: 'Wait for approval', submit: () => outcome.suspend(Date.now() + 50) });
const approved = defineFlow({ id: 'approval', title: 'Approval', children: [wait, results] });
const waiting = await startTask(approved);
await waiting.submit();
console.log(waiting.state.status); // "suspended"
await new Promise((resolve) => setTimeout(resolve, 80));
console.log(waiting.state.step?.id); // "results": the timer resumed it
