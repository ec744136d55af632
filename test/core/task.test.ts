import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  ActionFailedError,
  action,
  compile,
  defineFlow,
  outcome,
  restoreTask,
  startTask,
  TaskRecordError,
  VersionConflictError,
} from '../../src/core/index.ts';
import { flowGraph } from '../../src/core/graph.ts';
import { memoryStore, UNBOUND } from '../../src/persist/index.ts';
import { manualClock } from '../helpers/clock.ts';

const name = action({ id: 'name', title: 'Your name', schema: z.object({ name: z.string().min(1) }) });
const email = action({ id: 'email', title: 'Your email', schema: z.object({ email: z.email() }) });
const plan = action({
  id: 'plan',
  title: 'Your plan',
  schema: z.object({ plan: z.enum(['free', 'pro']) }),
  submit: (_data, { plan }) => outcome.complete({ plan, price: plan === 'pro' ? 10 : 0 }),
});
const review = action({ id: 'review', title: 'Review' });

/** A memory store noting the version of every write as it starts. */
function countingStore() {
  const store = memoryStore();
  const writes: number[] = [];
  const put: typeof store.put = (record, expected) => {
    writes.push(record.version);
    return store.put(record, expected);
  };
  return { store: { ...store, put }, writes };
}
const signup = defineFlow({ id: 'signup', title: 'Sign up', children: [name, email, plan, review] });

describe('back and go to', () => {
  it('goes back to the previous visited step with the data as it was and the input as entered', async () => {
    const task = await startTask(signup);
    await task.submit({ name: 'Ada' });
    await task.submit({ email: 'ada@example.com' });
    await task.submit({ plan: 'pro' });
    expect(task.state.data).toMatchObject({ plan: 'pro', price: 10 });
    await task.back();
    expect(task.state.step).toMatchObject({ id: 'plan', draft: { plan: 'pro' } });
    expect(task.state.data.plan).toBeUndefined();
    expect(task.state.canGoBack).toBe(true);
  });

  it('resumes after editing an earlier step: later forms keep what was entered', async () => {
    const task = await startTask(signup);
    await task.submit({ name: 'Ada' });
    await task.submit({ email: 'ada@example.com' });
    await task.submit({ plan: 'pro' });
    await task.goTo('name');
    expect(task.state.step).toMatchObject({ id: 'name', draft: { name: 'Ada' } });
    await task.submit({ name: 'Ada Lovelace' });
    expect(task.state.step).toMatchObject({ id: 'email', draft: { email: 'ada@example.com' } });
    await task.submit(task.state.step?.draft);
    expect(task.state.step).toMatchObject({ id: 'plan', draft: { plan: 'pro' } });
    await task.submit({ plan: 'free' });
    expect(task.state.data).toMatchObject({ name: { name: 'Ada Lovelace' }, email: { email: 'ada@example.com' }, plan: 'free', price: 0 });
    expect(task.state.visited).toEqual(['name', 'email', 'plan', 'review']);
  });

  it('goes forward again to a step gone back from, with the data it had, like browser history', async () => {
    const task = await startTask(signup);
    await task.submit({ name: 'Ada' });
    await task.submit({ email: 'ada@example.com' });
    await task.submit({ plan: 'pro' });
    await task.goTo('name');
    expect(task.state).toMatchObject({ visited: ['name'], ahead: ['email', 'plan', 'review'], canGoBack: false });
    await task.goTo('review');
    expect(task.state).toMatchObject({ step: { id: 'review' }, visited: ['name', 'email', 'plan', 'review'], ahead: [] });
    expect(task.state.data).toMatchObject({ plan: 'pro', price: 10 });
    await task.back();
    await task.back();
    expect(task.state).toMatchObject({ step: { id: 'email' }, ahead: ['plan', 'review'] });
  });

  it('forgets the steps ahead once the user submits from an earlier step', async () => {
    const task = await startTask(signup);
    await task.submit({ name: 'Ada' });
    await task.back();
    expect(task.state.ahead).toEqual(['email']);
    await task.submit({ name: 'Ada L.' });
    expect(task.state).toMatchObject({ step: { id: 'email' }, visited: ['name', 'email'], ahead: [] });
    await expect(task.goTo('plan')).rejects.toMatchObject({ code: 'step-not-visited' });
  });

  it('refuses to go back from the first step or to a step not visited', async () => {
    const task = await startTask(signup);
    await expect(task.back()).rejects.toMatchObject({ code: 'no-previous-step' });
    await task.submit({ name: 'Ada' });
    await expect(task.goTo('plan')).rejects.toMatchObject({ code: 'step-not-visited', message: expect.stringMatching(/has not visited step "plan" \(visited: name, email\)/) });
    await expect(task.goTo('email')).rejects.toMatchObject({ code: 'step-not-visited' });
    expect(task.state.step?.id).toBe('email');
  });
});

describe('the audit history', () => {
  it('records every transition with step, event, time and actor', async () => {
    const clock = manualClock(1000);
    const task = await startTask(signup, { clock, user: { id: 'u-9' } });
    await clock.advance(5);
    await task.submit({ name: 'Ada' });
    await task.back();
    await task.abort('changed my mind');
    expect(task.toRecord().history).toEqual([
      { at: 1000, event: 'start', from: null, to: 'name', actor: 'u-9' },
      { at: 1005, event: 'submit', from: 'name', to: 'email', actor: 'u-9', outcome: 'complete' },
      { at: 1005, event: 'back', from: 'email', to: 'name', actor: 'u-9' },
      { at: 1005, event: 'abort', from: 'name', to: '$aborted', actor: 'u-9' },
    ]);
  });

  it('records a refused submission with the names of the refused fields, never their values', async () => {
    const clock = manualClock(1000);
    const failing = action({ id: 'pay', title: 'Pay', submit: () => outcome.fail('Card declined', { card: ['declined'] }) });
    const task = await startTask(defineFlow({ id: 'refusals', title: 'Refusals', children: [name, email, failing] }), { clock });
    await task.submit({ name: '' });
    await task.submit({ name: 'Ada' });
    await task.submit({ email: 'not-an-email', secret: 'hunter2' });
    await task.submit({ email: 'ada@example.com' });
    await task.submit({ card: '4242' });
    const history = task.toRecord().history;
    expect(history.filter((entry) => entry.event === 'refused')).toEqual([
      { at: 1000, event: 'refused', from: 'name', to: 'name', actor: null, fields: ['name'] },
      { at: 1000, event: 'refused', from: 'email', to: 'email', actor: null, fields: ['email'] },
      { at: 1000, event: 'refused', from: 'pay', to: 'pay', actor: null, fields: ['card'] },
    ]);
    expect(JSON.stringify(history)).not.toMatch(/not-an-email|hunter2|4242/);
    // The draft is kept as before: the form shows what was entered.
    expect(task.state.step).toMatchObject({ id: 'pay', draft: { card: '4242' } });
  });
});

describe('async submit', () => {
  it('reports a failing service as ActionFailedError, keeps the input and lets the user retry', async () => {
    let up = false;
    const pay = action({
      id: 'pay',
      title: 'Pay',
      schema: z.object({ amount: z.number() }),
      async submit() {
        if (!up) throw new Error('gateway timeout');
        return outcome.complete({ paid: true });
      },
    });
    const task = await startTask(defineFlow({ id: 'f', title: 'F', children: [pay, review] }));
    const failed = await task.submit({ amount: 5 });
    expect(failed).toMatchObject({ ok: false, error: expect.any(ActionFailedError) });
    expect(failed.ok === false && failed.message).toMatch(/^Flow "f", task .+: step "pay" failed \(gateway timeout\)\. The task did not move; submit again\.$/);
    expect(task.state).toMatchObject({ step: { id: 'pay', draft: { amount: 5 } }, error: { code: 'action-failed' } });
    up = true;
    expect(await task.submit({ amount: 5 })).toEqual({ ok: true });
    expect(task.state).toMatchObject({ step: { id: 'review' }, error: null, data: { paid: true } });
  });

  it('shows pending while the submit runs and submits once on a double click', async () => {
    const calls: string[] = [];
    const slow = action({
      id: 'slow',
      title: 'Slow',
      async submit(_d, _i, { idempotencyKey }) {
        calls.push(idempotencyKey);
        await new Promise((r) => setTimeout(r, 10));
      },
    });
    const task = await startTask(defineFlow({ id: 'f', title: 'F', children: [slow, review] }));
    const first = task.submit();
    expect(task.state.pending).toBe(true);
    const second = task.submit();
    expect(second).toBe(first);
    await first;
    expect(task.state.pending).toBe(false);
    expect(calls).toEqual([`${task.id}:slow:1`]);
  });

  it('is not pending while a draft is saved: a draft is no submission, so views keep their buttons enabled', async () => {
    const store = memoryStore();
    const put = store.put.bind(store);
    let release: () => void = () => undefined;
    let saving = false;
    const task = await startTask(defineFlow({ id: 'f', title: 'F', children: [review] }), { store });
    store.put = async (record, expected) => {
      saving = true;
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return put(record, expected);
    };
    const draft = task.saveDraft({ note: 'half typed' });
    await vi.waitFor(() => expect(saving).toBe(true));
    expect(task.state.pending).toBe(false);
    release();
    await draft;
    expect(task.state.step?.draft).toEqual({ note: 'half typed' });
    expect(task.state.pending).toBe(false);
  });

  it('retries a failed automatic step', async () => {
    let attempts = 0;
    const lookup = action({
      id: 'lookup',
      title: 'Looking up your account',
      auto: true,
      async submit() {
        attempts++;
        if (attempts === 1) throw new Error('offline');
        return outcome.complete({ account: 42 });
      },
    });
    const task = await startTask(defineFlow({ id: 'f', title: 'F', children: [lookup, review] }));
    expect(task.state).toMatchObject({ step: { id: 'lookup', kind: 'auto' }, error: { code: 'action-failed' } });
    expect(task.state.error?.message).toMatch(
      /^Flow "f", task .+: step "lookup" failed \(offline\)\. The task did not move; call retry\(\), or give the action an onError target\.$/,
    );
    expect(await task.submit()).toMatchObject({ ok: false, error: { code: 'automatic-step' } });
    await task.retry();
    expect(task.state).toMatchObject({ step: { id: 'review' }, data: { account: 42 } });
  });

  describe('an onError target (django-fsm on_error)', () => {
    const failing = (id: string, extra: Partial<Parameters<typeof action>[0]> = {}) =>
      action({
        id,
        title: id,
        auto: true,
        submit: () => {
          throw new Error('card declined');
        },
        ...extra,
      });
    const sorry = action({ id: 'sorry', title: 'Payment failed' });

    it('moves the task there when the automatic step fails, instead of waiting for retry()', async () => {
      const store = memoryStore();
      const charge = failing('charge', { onError: 'sorry' });
      const task = await startTask(defineFlow({ id: 'shop', title: 'Shop', children: [name, charge, review, sorry] }), { store, binder: 'b' });
      const submitted = await task.submit({ name: 'Ada' });
      expect(task.state).toMatchObject({ status: 'active', step: { id: 'sorry', kind: 'form' }, error: { code: 'action-failed', step: 'charge' } });
      expect(submitted).toMatchObject({ ok: false, error: { code: 'action-failed' } });
      expect(task.state.error?.message).toMatch(/: step "charge" failed \(card declined\)\. The task moved to its onError target "sorry"\.$/);
      expect(task.toRecord().history.at(-1)).toMatchObject({ event: 'error', from: 'charge', to: 'sorry', outcome: 'goto' });
      expect((await store.get(task.id, 'b'))?.history.at(-1)).toMatchObject({ event: 'error', to: 'sorry' });
      await expect(task.retry()).rejects.toMatchObject({ code: 'nothing-to-retry' });
      expect(await task.submit()).toEqual({ ok: true });
      expect(task.state).toMatchObject({ status: 'completed', error: null });
    });

    it('also takes over when returnFromChildren fails, and the target may be automatic too', async () => {
      const parent = action({
        id: 'parent',
        title: 'Parent',
        auto: true,
        onError: 'recover',
        children: [action({ id: 'child', title: 'Child' })],
        submit: () => outcome.enter(),
        returnFromChildren: () => outcome.fail('no quota left'),
      });
      const recover = action({ id: 'recover', title: 'Recover', auto: true, submit: () => outcome.complete({ recovered: true }) });
      const task = await startTask(defineFlow({ id: 'g', title: 'G', children: [parent, review, recover] }));
      expect(task.state.step?.id).toBe('child');
      await task.submit();
      expect(task.state).toMatchObject({ status: 'completed', data: { recovered: true }, error: { step: 'parent' } });
      expect(task.state.error?.message).toMatch(/step "parent" failed \(no quota left\)\. The task moved to its onError target "recover"/);
    });

    it('is checked when the flow compiles, and appears in the graph edges', () => {
      expect(() => compile(defineFlow({ id: 'h', title: 'H', children: [failing('charge', { onError: 'nowhere' }), review] }))).toThrow(
        /h > charge: onError target "nowhere" is not an action or scaffold of this flow/,
      );
      const graph = flowGraph(defineFlow({ id: 'h', title: 'H', children: [failing('charge', { onError: 'sorry' }), review, sorry] }));
      expect(graph.edges).toContainEqual({ from: 'charge', to: 'sorry', label: 'on error' });
    });
  });
});

describe('persistence', () => {
  it('commits every transition with an incremented version', async () => {
    const store = memoryStore();
    const task = await startTask(signup, { store, binder: 'b' });
    expect((await store.get(task.id, 'b'))?.version).toBe(1);
    await task.submit({ name: 'Ada' });
    const record = await store.get(task.id, 'b');
    expect(record).toMatchObject({ version: 2, flowId: 'signup', flowVersion: 1, data: { name: { name: 'Ada' } } });
    expect(record!.expiresAt - record!.lastActiveAt).toBe(20 * 60 * 1000);
  });

  it('does not move when the commit fails, and says so', async () => {
    const store = memoryStore();
    const task = await startTask(signup, { store, binder: 'b' });
    const twin = await restoreTask(signup, (await store.get(task.id, 'b'))!, { store, binder: 'b' });
    await twin.submit({ name: 'Twin' });
    const result = await task.submit({ name: 'Ada' });
    expect(result).toMatchObject({ ok: false, error: expect.any(VersionConflictError) });
    expect(task.state.step?.id).toBe('name');
    expect((await store.get(task.id, 'b'))!.data).toEqual({ name: { name: 'Twin' } });
  });

  it('restores a task exactly where it was', async () => {
    const store = memoryStore();
    const task = await startTask(signup, { store, binder: 'b' });
    await task.submit({ name: 'Ada' });
    await task.submit({ email: 'ada@example.com' });
    const restored = await restoreTask(signup, (await store.get(task.id, 'b'))!, { store, binder: 'b' });
    expect(restored.state).toMatchObject({ step: { id: 'plan' }, visited: ['name', 'email', 'plan'], version: 3 });
    await restored.back();
    expect(restored.state.step).toMatchObject({ id: 'email', draft: { email: 'ada@example.com' } });
  });

  it('re-arms the timer of a suspended task on restore', async () => {
    const clock = manualClock();
    const store = memoryStore(clock.now);
    const wait = action({ id: 'wait', title: 'Wait', submit: () => outcome.suspend(clock.now() + 1000) });
    const flow = defineFlow({ id: 'f', title: 'F', children: [wait, review] });
    const task = await startTask(flow, { store, clock });
    await task.submit();
    task.dispose();
    const restored = await restoreTask(flow, (await store.get(task.id, UNBOUND))!, { store, clock });
    expect(restored.state.status).toBe('suspended');
    await clock.advance(1000);
    await vi.waitFor(() => expect(restored.state.step?.id).toBe('review'));
  });

  it('takes the idle timeout from the flow unless the task options give one', async () => {
    const store = memoryStore();
    const brief = defineFlow({ id: 'brief', title: 'Brief', idleTimeoutMs: 5 * 60_000, children: [review] });
    const own = await startTask(brief, { store });
    expect(own.toRecord().expiresAt - own.toRecord().lastActiveAt).toBe(5 * 60_000);
    const given = await startTask(brief, { store, idleTimeoutMs: 60_000 });
    expect(given.toRecord().expiresAt - given.toRecord().lastActiveAt).toBe(60_000);
  });

  it('keeps a suspended task alive until an idle timeout after it is due to resume', async () => {
    const clock = manualClock();
    const store = memoryStore(clock.now);
    const wait = action({ id: 'wait', title: 'Wait', submit: () => outcome.suspend(clock.now() + 3_600_000) });
    const task = await startTask(defineFlow({ id: 'f', title: 'F', children: [wait, review] }), { store, clock, idleTimeoutMs: 60_000 });
    await task.submit();
    expect(task.toRecord().expiresAt).toBe(clock.now() + 3_600_000 + 60_000);
    await clock.advance(30 * 60_000);
    expect(await store.get(task.id, UNBOUND)).not.toBeNull();
    task.dispose();
  });

  it('re-runs an automatic step that was interrupted', async () => {
    const store = memoryStore();
    let runs = 0;
    const sync = action({ id: 'sync', title: 'Sync', auto: true, submit: () => (++runs === 1 ? Promise.reject(new Error('crash')) : undefined) });
    const flow = defineFlow({ id: 'f', title: 'F', children: [sync, review] });
    const task = await startTask(flow, { store });
    expect(task.state.step?.id).toBe('sync');
    const restored = await restoreTask(flow, (await store.get(task.id, UNBOUND))!, { store });
    expect(restored.state.step?.id).toBe('review');
    expect(runs).toBe(2);
  });

  it('rejects a record of another flow, version or position with a typed error', async () => {
    const store = memoryStore();
    const task = await startTask(signup, { store });
    const record = (await store.get(task.id, UNBOUND))!;
    const other = defineFlow({ id: 'other', title: 'Other', children: [review] });
    await expect(restoreTask(other, record)).rejects.toMatchObject({ code: 'foreign-flow' });
    await expect(restoreTask({ ...signup, version: 2 }, record)).rejects.toMatchObject({ code: 'flow-version' });
    const moved = { ...record, snapshot: { ...record.snapshot, value: { signup: { gone: '$ready' } } } };
    await expect(restoreTask(signup, moved)).rejects.toBeInstanceOf(TaskRecordError);
  });

  it('freezes the state it hands out in development builds: a write throws instead of sticking until the next change', async () => {
    const task = await startTask(signup);
    await task.submit({ name: 'Ada' });
    const state = task.state;
    expect(() => {
      (state as { status: string }).status = 'completed';
    }).toThrow(TypeError);
    expect(() => {
      (state.step as { id: string }).id = 'review';
    }).toThrow(TypeError);
    expect(() => {
      state.data.name = { name: 'Eve' };
    }).toThrow(TypeError);
    expect(() => state.visited.push('review')).toThrow(TypeError);
    expect(task.state).toMatchObject({ status: 'active', step: { id: 'email' }, data: { name: { name: 'Ada' } }, visited: ['name', 'email'] });
    expect(Object.isFrozen(state.step?.schema)).toBe(false);
  });

  it('notifies subscribers of every change: pending when a submission is queued, then the committed step once', async () => {
    const task = await startTask(signup);
    const seen: string[] = [];
    const stop = task.subscribe((state) => seen.push(`${state.step?.id}:${state.pending}`));
    await task.submit({ name: 'Ada' });
    stop();
    await task.submit({ email: 'a@b.co' });
    expect(seen).toEqual(['name:true', 'email:false']);
  });

  it('notifies a draft once, when it is saved, and never as pending', async () => {
    const task = await startTask(signup, { store: memoryStore() });
    const seen: string[] = [];
    task.subscribe((state) => seen.push(`${state.step?.id}:${state.pending}:${JSON.stringify(state.step?.draft)}`));
    await task.saveDraft({ name: 'Ad' });
    expect(seen).toEqual(['name:false:{"name":"Ad"}']);
  });

  it('starts a submitted step’s write within the submit call when nothing is queued and the schema is synchronous', async () => {
    const { store: counted, writes } = countingStore();
    const task = await startTask(signup, { store: counted });
    writes.length = 0;
    const first = task.submit({ name: 'Ada' });
    expect(writes).toEqual([2]);
    // A move queued behind another starts its write after it.
    const second = task.back();
    expect(writes).toEqual([2]);
    await Promise.all([first, second]);
    expect(writes).toEqual([2, 3]);
    expect(task.state.step?.id).toBe('name');
  });

  it('waits for an asynchronous schema before writing', async () => {
    const { store: counted, writes } = countingStore();
    const checked = defineFlow({
      id: 'checked',
      title: 'Checked',
      children: [action({ id: 'code', title: 'Code', schema: z.object({ code: z.string().refine(async (code) => code === 'ok') }) }), review],
    });
    const task = await startTask(checked, { store: counted });
    writes.length = 0;
    const submitted = task.submit({ code: 'ok' });
    expect(writes).toEqual([]);
    await expect(submitted).resolves.toEqual({ ok: true });
    expect(writes).toEqual([2]);
  });

  it('keeps notifying every listener when one throws, finishes the move, and reports the error on its own', async () => {
    const task = await startTask(signup, { store: memoryStore() });
    const seen: string[] = [];
    const broken = new Error('listener bug');
    task.subscribe(() => seen.push('first'));
    task.subscribe(() => {
      throw broken;
    });
    task.subscribe((state) => seen.push(`last:${state.step?.id}:${state.pending}`));
    const reported: (() => void)[] = [];
    const timers = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((run: () => void) => {
      reported.push(run);
      return 0;
    }) as never);
    try {
      await expect(task.submit({ name: 'Ada' })).resolves.toEqual({ ok: true });
    } finally {
      timers.mockRestore();
    }
    expect(seen).toEqual(['first', 'last:name:true', 'first', 'last:email:false']);
    expect(task.state.step?.id).toBe('email');
    expect(task.toRecord().version).toBe(2);
    // Each throw is reported as an uncaught error of its own (a timer that rethrows it), as an event listener's error is.
    expect(reported).toHaveLength(2);
    for (const report of reported) expect(report).toThrow(broken);
  });

  it('notifies a refused submission once it is settled, with its errors', async () => {
    const task = await startTask(signup);
    const seen: string[] = [];
    task.subscribe((state) => seen.push(`${state.step?.id}:${state.pending}:${Object.keys(state.errors).join()}`));
    await task.submit({ name: '' });
    expect(seen).toEqual(['name:true:', 'name:false:name']);
  });
});
