import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  DAY,
  defineAutomation,
  ExecuteNode,
  FormPermissionError,
  flow,
  HOUR,
  hours,
  MINUTE,
  minutes,
  NoOpenFormError,
  type NodeContext,
} from '../../src/automations/index.ts';
import { harness, T0, trail } from './harness.ts';

describe('Execute', () => {
  it('runs sync and async functions and stores their JSON results in the history', async () => {
    const def = defineAutomation('Exec', {
      nodes: {
        sync: flow.execute((ctx) => {
          ctx.data.n = 1;
          return { doubled: 2 };
        }),
        later: flow.execute(async (ctx) => {
          await Promise.resolve();
          ctx.data.n = (ctx.data.n as number) + 1;
          return [ctx.data.n];
        }),
        opaque: flow.execute(() => () => 'functions are not JSON'),
        end: flow.end(),
      },
    });
    const { runner } = harness([def]);
    const { id, data } = await runner.create(def);
    expect(data.n).toBe(2);
    const rows = await runner.history(id);
    expect(rows.map((r) => r.result)).toEqual([{ doubled: 2 }, [2], null, null]);
    expect(rows.every((r) => r.message === 'OK' && r.finished === T0)).toBe(true);
  });

  it('is subclassable into named node types whose method gets the context and the node parameters', async () => {
    const sent: string[] = [];
    class SendMail extends ExecuteNode {
      constructor(readonly template: string) {
        super();
      }
      override method(ctx: NodeContext) {
        sent.push(`${this.template} to ${ctx.data.email} (${ctx.idempotencyKey})`);
        return 'sent';
      }
    }
    const def = defineAutomation('Mailer', {
      nodes: { welcome: new SendMail('welcome'), bye: new SendMail('bye').next('end'), end: flow.end() },
    });
    const { runner } = harness([def]);
    const { id } = await runner.create(def, { email: 'x@y.z' });
    expect(sent).toEqual(['welcome to x@y.z (id1:1)', 'bye to x@y.z (id1:2)']);
    expect((await runner.history(id))[0]?.result).toBe('sent');
  });

  it('without OnError stops the path and keeps the error text and traceback in the history', async () => {
    const def = defineAutomation('Failing', {
      nodes: {
        touch: flow.execute((ctx) => {
          ctx.data.touched = true;
          throw new TypeError('no mail server');
        }),
        end: flow.end(),
      },
    });
    const { runner } = harness([def]);
    const created = await runner.create(def);
    expect(created.finished).toBe(false);
    expect(created.paths[0]?.status).toBe('error');
    expect(created.paths[0]?.error).toMatch(/node "touch" failed \(TypeError: no mail server\).*onError/);
    expect(created.data.touched).toBeUndefined();
    expect(created.dueAt).toBeNull();
    const [row] = await runner.history(created.id);
    expect(row?.message).toBe('TypeError: no mail server');
    expect(row?.result).toEqual({ error: expect.stringContaining('TypeError: no mail server') });
    expect((await runner.stepAll()).advanced).toBe(0);
  });

  it('with OnError continues at the named node', async () => {
    const def = defineAutomation('Recovering', {
      nodes: {
        risky: flow
          .execute(() => {
            throw new Error('boom');
          })
          .onError('recover'),
        unreached: flow.execute(() => 'never').next('end'),
        recover: flow.execute((ctx) => {
          ctx.data.recovered = true;
        }),
        end: flow.end(),
      },
    });
    const { runner } = harness([def]);
    const created = await runner.create(def);
    expect(created.finished).toBe(true);
    expect(await trail(runner, created.id)).toEqual([
      ['risky', 'Error: boom'],
      ['recover', 'OK'],
      ['end', 'OK'],
    ]);
  });

  it('without a function is a no-op that moves on', async () => {
    const def = defineAutomation('Noop', { nodes: { nothing: flow.execute(), end: flow.end() } });
    const { runner } = harness([def]);
    expect((await runner.create(def)).finished).toBe(true);
  });
});

describe('End', () => {
  it('sets the finished flag and time, and a finished instance does not run again', async () => {
    const def = defineAutomation('Ends', { nodes: { end: flow.end(), after: flow.execute(() => 'never').next('end') } });
    const { runner, clock, effects } = harness([def]);
    const created = await runner.create(def);
    expect(created).toMatchObject({ finished: true, finishedAt: T0, paths: [], dueAt: null });
    expect(effects).toContainEqual({ type: 'finished', instanceId: created.id });
    clock.advance(DAY);
    expect(await runner.stepAll()).toEqual({ advanced: 0, delivered: 0 });
    expect(await trail(runner, created.id)).toEqual([['end', 'OK']]);
  });
});

describe('Repeat', () => {
  function repeating(configure: (r: ReturnType<typeof flow.repeat<'work'>>) => unknown, runs: number[]) {
    const node = flow.repeat('work');
    configure(node);
    return defineAutomation('Worker', {
      unique: true,
      nodes: {
        setup: flow.execute(),
        work: flow.execute((ctx) => {
          runs.push(ctx.now);
        }),
        again: node,
      },
    });
  }

  async function runFor(def: ReturnType<typeof repeating>, duration: number, tick: number) {
    const { runner, clock } = harness([def]);
    await runner.create(def);
    for (let t = 0; t < duration; t += tick) {
      clock.advance(tick);
      await runner.runUntilIdle();
    }
  }

  it('EveryNMinutes repeats on a fixed grid from the first execution, even when the scheduler is late', async () => {
    const runs: number[] = [];
    await runFor(repeating((r) => r.everyNMinutes(15), runs), hours(1), 7 * MINUTE);
    // Scheduler ticks every 7 minutes: runs happen at the first tick at or after each 15-minute slot.
    expect(runs.map((t) => (t - T0) / MINUTE)).toEqual([0, 21, 35, 49, 63]);
  });

  it('EveryHour(n), EveryNDays and EveryDay count from the first execution', async () => {
    const hourly: number[] = [];
    await runFor(repeating((r) => r.everyHour(2), hourly), hours(7), HOUR);
    expect(hourly.map((t) => (t - T0) / HOUR)).toEqual([0, 2, 4, 6]);
    const daily: number[] = [];
    await runFor(repeating((r) => r.everyDay(), daily), 3 * DAY, HOUR);
    expect(daily.map((t) => (t - T0) / DAY)).toEqual([0, 1, 2, 3]);
    const everyOther: number[] = [];
    await runFor(repeating((r) => r.everyNDays(2), everyOther), 5 * DAY, HOUR);
    expect(everyOther.map((t) => (t - T0) / DAY)).toEqual([0, 2, 4]);
  });

  it('At(hour, minute) runs every day at that time (UTC)', async () => {
    const runs: number[] = [];
    await runFor(repeating((r) => r.at(7, 30), runs), 2 * DAY, 10 * MINUTE);
    // T0 is 09:00, so the first repetition is tomorrow at 07:30.
    expect(runs.map((t) => new Date(t).toISOString())).toEqual([
      '2026-03-02T09:00:00.000Z',
      '2026-03-03T07:30:00.000Z',
      '2026-03-04T07:30:00.000Z',
    ]);
  });

  it('resumes at the first node when no start is given', async () => {
    const seen: string[] = [];
    const def = defineAutomation('Loop', {
      nodes: {
        first: flow.execute(() => {
          seen.push('first');
        }),
        again: flow.repeat().everyNMinutes(5),
      },
    });
    const { runner, clock } = harness([def]);
    await runner.create(def);
    clock.advance(minutes(5));
    await runner.runUntilIdle();
    expect(seen).toEqual(['first', 'first']);
  });
});

describe('If / Then / Else', () => {
  const def = defineAutomation('Branch', {
    nodes: {
      decide: flow
        .if((ctx) => ctx.data.vip === true)
        .thenDo('vip')
        .elseDo((ctx) => {
          ctx.data.regular = true;
          return 'regular handled';
        }),
      after_else: flow.execute().next('end'),
      vip: flow.if(async (ctx) => ctx.data.gold === true).thenDo((ctx) => {
        ctx.data.gold_handled = true;
      }),
      vip_next: flow.execute(),
      end: flow.end(),
    },
  });

  it('continues at the Then node when the condition holds', async () => {
    const { runner } = harness([def]);
    const { id } = await runner.create(def, { vip: true });
    expect((await trail(runner, id)).map(([n]) => n)).toEqual(['decide', 'vip', 'vip_next', 'end']);
  });

  it('executes a function branch and continues with the next node', async () => {
    const { runner } = harness([def]);
    const created = await runner.create(def, { vip: false });
    expect(created.data.regular).toBe(true);
    expect(await trail(runner, created.id)).toEqual([
      ['decide', 'OK'],
      ['after_else', 'OK'],
      ['end', 'OK'],
    ]);
    expect((await runner.history(created.id))[0]?.result).toBe('regular handled');
  });

  it('without Else continues with the next node (after running a Then function when it holds)', async () => {
    const { runner } = harness([def]);
    const gold = await runner.create(def, { vip: true, gold: true });
    expect(gold.data.gold_handled).toBe(true);
    const plain = await runner.create(def, { vip: true, gold: false });
    expect(plain.data.gold_handled).toBeUndefined();
    expect((await trail(runner, plain.id)).map(([n]) => n)).toEqual(['decide', 'vip', 'vip_next', 'end']);
  });
});

describe('Split / Join', () => {
  it('waits at the join until every path of the split has arrived, nested splits included', async () => {
    const def = defineAutomation('Parallel', {
      nodes: {
        fork: flow.split().next('a').next('b'),
        a: flow.split().next('a1').next('a2'),
        a1: flow.execute().next('inner_join'),
        a2: flow.execute().afterWaitingFor(hours(1)).next('inner_join'),
        inner_join: flow.join().next('outer_join'),
        b: flow.execute().afterWaitingFor(hours(3)),
        outer_join: flow.join(),
        done: flow.execute((ctx) => {
          ctx.data.doneAt = ctx.now;
        }),
        end: flow.end(),
      },
    });
    const { runner, clock } = harness([def]);
    const { id } = await runner.create(def);
    const nodes = async () => (await runner.get(id)).paths.map((p) => `${p.node}:${p.status}`);
    expect(await nodes()).toEqual(['inner_join:joined', 'a2:active', 'b:active']);
    clock.advance(hours(1));
    await runner.runUntilIdle();
    expect(await nodes()).toEqual(['outer_join:joined', 'b:active']);
    clock.advance(hours(2));
    await runner.runUntilIdle();
    const done = await runner.get(id);
    expect(done.finished).toBe(true);
    expect(done.data.doneAt).toBe(T0 + hours(3));
  });

  it('records each early arrival at the join as "Open Join", then every arrival as "Joined", the last with the arrived task ids', async () => {
    const def = defineAutomation('JoinRows', {
      nodes: {
        fork: flow.split().next('a').next('b').next('c'),
        a: flow.execute().next('meet'),
        b: flow.execute().afterWaitingFor(hours(1)).next('meet'),
        c: flow.execute().afterWaitingFor(hours(2)).next('meet'),
        meet: flow.join(),
        end: flow.end(),
      },
    });
    const { runner, clock } = harness([def]);
    const { id } = await runner.create(def);
    clock.advance(hours(1));
    await runner.runUntilIdle();
    const joinRows = async () => (await runner.history(id)).filter((row) => row.status === 'meet');
    const early = await joinRows();
    expect(early.map((row) => [row.message, row.result, row.finished])).toEqual([
      ['Open Join', [], T0],
      ['Open Join', [], T0 + hours(1)],
    ]);
    clock.advance(hours(1));
    await runner.runUntilIdle();
    const rows = await joinRows();
    expect(rows.map((row) => [row.message, row.finished])).toEqual([
      ['Joined', T0],
      ['Joined', T0 + hours(1)],
      ['Joined', T0 + hours(2)],
    ]);
    expect(rows[2]?.result).toEqual(rows.map((row) => row.taskId));
    expect((await runner.get(id)).finished).toBe(true);
  });

  it('stops a path that reaches a join no split started with JoinWithoutSplitError, as the reference refuses "Join() without Split()"', async () => {
    const def = defineAutomation('StrayJoin', {
      nodes: {
        start: flow.if((ctx) => ctx.data.parallel === true).thenDo('fork').elseDo('late'),
        fork: flow.split().next('a').next('b'),
        a: flow.execute().next('meet'),
        b: flow.execute().next('meet'),
        meet: flow.join().next('end'),
        late: flow.join(),
        end: flow.end(),
      },
    });
    const { runner } = harness([def]);
    expect((await runner.create(def, { parallel: true })).finished).toBe(true);
    const stray = await runner.create(def, { parallel: false });
    const path = (await runner.get(stray.id)).paths[0];
    expect(path).toMatchObject({ node: 'late', status: 'error' });
    expect(path?.error).toContain('Automation "StrayJoin", instance');
    expect(path?.error).toContain('node "late" is a join, but no split started this path');
    expect((await runner.history(stray.id)).at(-1)).toMatchObject({ status: 'late', message: expect.stringMatching(/^JoinWithoutSplitError: /) });
  });
});

describe('Form', () => {
  const schema = z.object({ amount: z.coerce.number().positive() });
  const def = defineAutomation('Approval', {
    nodes: {
      approve: flow.form(schema).user('u1').group('finance').permission('ledger.approve').permission('ledger.view').describe('Approve the payment'),
      end: flow.end(),
    },
  });
  const holder = { id: 'u1', groups: ['finance'], permissions: ['ledger.approve', 'ledger.view'] };

  it('requires the User, the Group and every Permission at once; superusers always may', async () => {
    const { runner } = harness([def]);
    const { id } = await runner.create(def);
    const forbidden = [
      { ...holder, id: 'u2' },
      { ...holder, groups: [] },
      { ...holder, permissions: ['ledger.approve'] },
    ];
    for (const actor of forbidden) {
      await expect(runner.submitForm(id, { node: 'approve' }, actor, { amount: 5 })).rejects.toBeInstanceOf(FormPermissionError);
    }
    expect(await runner.openForms(holder)).toEqual([expect.objectContaining({ node: 'approve', description: 'Approve the payment', instanceId: id })]);
    expect(await runner.openForms({ id: 'u2' })).toEqual([]);
    const done = await runner.submitForm(id, { node: 'approve' }, { id: 'root', superuser: true }, { amount: '12.5' });
    expect(done.finished).toBe(true);
    expect(done.data.approve).toEqual({ amount: 12.5 });
    const [row] = await runner.history(id);
    expect(row).toMatchObject({ status: 'approve', message: 'OK', result: { amount: 12.5 }, completedBy: 'root' });
  });

  it('addresses the open form by task id, and a closed form cannot be submitted twice', async () => {
    const { runner } = harness([def]);
    const created = await runner.create(def);
    const taskId = created.paths[0]?.taskId as number;
    await runner.submitForm(created.id, { taskId }, holder, { amount: 1 });
    await expect(runner.submitForm(created.id, { taskId }, holder, { amount: 1 })).rejects.toThrow(/finished/);
    const second = await runner.create(def);
    await expect(runner.submitForm(second.id, { node: 'end' }, holder, {})).rejects.toBeInstanceOf(NoOpenFormError);
  });
});

describe('SendMessage', () => {
  it('sends to one instance (computed id) or broadcasts to all running instances of an automation', async () => {
    const inbox = defineAutomation('Inbox', {
      receivers: {
        note: (ctx, token, payload) => {
          ctx.data.notes = [...((ctx.data.notes as unknown[]) ?? []), `${token}:${payload.text}`];
        },
      },
      nodes: { wait: flow.execute().asSoonAs((ctx) => Array.isArray(ctx.data.notes) && ctx.data.notes.length >= 2), end: flow.end() },
    });
    const sender = defineAutomation('Sender', {
      nodes: {
        direct: flow.sendMessage((ctx) => ctx.data.target as string, 'note', 'direct', (ctx) => ({ text: ctx.data.text })),
        everyone: flow.sendMessage({ automation: 'Inbox' }, 'note', 'all', { text: 'hello' }),
        end: flow.end(),
      },
    });
    const { runner } = harness([inbox, sender]);
    const a = await runner.create(inbox);
    const b = await runner.create(inbox);
    await runner.create(sender, { target: a.id, text: 'hi a' });
    expect((await runner.get(a.id)).data.notes).toEqual(['direct:hi a', 'all:hello']);
    expect((await runner.get(a.id)).finished).toBe(true);
    expect((await runner.get(b.id)).data.notes).toEqual(['all:hello']);
    expect((await runner.get(b.id)).finished).toBe(false);
  });
});
