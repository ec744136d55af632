import { action, defineFlow, outcome, scaffold, startTask } from 'wayflow';

// A quiz that loops over questions: LEAVE runs the enclosing scaffold again, BREAK leaves it.
let asked = 0;
const question = action({
  id: 'question',
  title: 'Answer the question',
  submit: (_data, input: unknown) => {
    asked++;
    if (input === 'give up') return outcome.break();
    return asked < 3 ? outcome.leave({ asked }) : outcome.complete({ asked });
  },
});
const round = scaffold({ id: 'round', title: 'Round', children: [question] });
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
