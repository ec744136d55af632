import { describe, expect, it } from 'vitest';
import { action, defineFlow, startTask } from '../../src/core/index.ts';

/** A flow whose last step records the keys its submit was given, once per submit. */
function recording() {
  const seen: { idempotencyKey: string; stepKey: string }[] = [];
  const details = action({ id: 'details', title: 'Details' });
  const open = action({
    id: 'open',
    title: 'Open the account',
    submit(_data, _input, { idempotencyKey, stepKey }) {
      seen.push({ idempotencyKey, stepKey });
    },
  });
  const done = action({ id: 'done', title: 'Done' });
  return { seen, flow: defineFlow({ id: 'open-account', title: 'Open an account', children: [details, open, done] }) };
}

describe('idempotency keys', () => {
  it('gives a new visit key after Back and Forward, and the same step key on every visit', async () => {
    const { seen, flow } = recording();
    const task = await startTask(flow);
    await task.submit();
    await task.submit();
    await task.back();
    await task.back();
    await task.submit();
    await task.submit();
    const [first, again] = seen;
    expect(first).toEqual({ idempotencyKey: `${task.id}:open:1`, stepKey: `${task.id}:open` });
    expect(again).toEqual({ idempotencyKey: expect.stringMatching(new RegExp(`^${task.id}:open:\\d+$`)), stepKey: `${task.id}:open` });
    expect(again?.idempotencyKey).not.toBe(first?.idempotencyKey);
  });

  it('gives each task its own step key', async () => {
    const { seen, flow } = recording();
    const a = await startTask(flow);
    const b = await startTask(flow);
    for (const task of [a, b]) {
      await task.submit();
      await task.submit();
    }
    expect(seen.map((keys) => keys.stepKey)).toEqual([`${a.id}:open`, `${b.id}:open`]);
  });
});
