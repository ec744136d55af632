import { describe, expect, it } from 'vitest';
import { defineAutomation, flow, hours, minutes, type NodeContext } from '../../src/automations/index.ts';
import { harness, T0, trail } from './harness.ts';

/** The WebinarWorkflow of the django-automations "Getting started" page. */
function webinarWorkflow(outbox: string[]) {
  const webinar = {
    sendWelcomeMail: (ctx: NodeContext) => {
      outbox.push(`welcome ${ctx.data.email}`);
      return { sent: 'welcome' };
    },
    // The reminder goes out shortly before the webinar begins.
    reminderTime: (ctx: NodeContext) => (ctx.data.webinarAt as number) - minutes(30),
    sendReminderMail: async (ctx: NodeContext) => {
      outbox.push(`reminder ${ctx.data.email}`);
    },
    sendReplayMail: (ctx: NodeContext) => {
      outbox.push(`replay ${ctx.data.email}`);
    },
  };
  return defineAutomation('WebinarWorkflow', {
    verboseName: 'Webinar preparation',
    nodes: {
      start: flow.execute((ctx) => {
        ctx.data.initialised = true;
      }),
      send_welcome_mail: flow.execute(webinar.sendWelcomeMail),
      send_reminder: flow.execute(webinar.sendReminderMail).afterWaitingUntil(webinar.reminderTime),
      send_replay_offer: flow.execute(webinar.sendReplayMail).afterWaitingFor(minutes(150)),
      end: flow.end(),
    },
  });
}

describe('WebinarWorkflow (django-automations getting-started example)', () => {
  it('runs its four timed tasks in order and ends, driven by a manual clock', async () => {
    const outbox: string[] = [];
    const { runner, clock } = harness([webinarWorkflow(outbox)]);
    const webinarAt = T0 + hours(48);

    const created = await runner.create('WebinarWorkflow', { email: 'ada@example.org', webinarAt });
    expect(outbox).toEqual(['welcome ada@example.org']);
    expect(created.data.initialised).toBe(true);
    expect(created.paths.map((p) => p.node)).toEqual(['send_reminder']);
    expect(created.dueAt).toBe(webinarAt - minutes(30));

    clock.advance(hours(24));
    await runner.runUntilIdle();
    expect(outbox).toHaveLength(1);

    clock.set(webinarAt - minutes(30));
    await runner.runUntilIdle();
    expect(outbox).toEqual(['welcome ada@example.org', 'reminder ada@example.org']);
    const waiting = await runner.get(created.id);
    expect(waiting.finished).toBe(false);
    expect(waiting.dueAt).toBe(webinarAt - minutes(30) + minutes(150));

    clock.advance(minutes(149));
    await runner.runUntilIdle();
    expect(outbox).toHaveLength(2);

    clock.advance(minutes(1));
    await runner.runUntilIdle();
    expect(outbox.at(-1)).toBe('replay ada@example.org');
    const done = await runner.get(created.id);
    expect(done.finished).toBe(true);
    expect(done.finishedAt).toBe(clock.now());
    expect(await trail(runner, created.id)).toEqual([
      ['start', 'OK'],
      ['send_welcome_mail', 'OK'],
      ['send_reminder', 'OK'],
      ['send_replay_offer', 'OK'],
      ['end', 'OK'],
    ]);
    const rows = await runner.history(created.id);
    expect(rows[1]?.result).toEqual({ sent: 'welcome' });
    expect(rows[2]?.created).toBe(T0);
    expect(rows[2]?.finished).toBe(webinarAt - minutes(30));
  });

  it('uses the verbose name from its options and the default otherwise', () => {
    expect(webinarWorkflow([]).verboseName).toBe('Webinar preparation');
    const plain = defineAutomation('Plain', { nodes: { end: flow.end() } });
    expect(plain.verboseName).toBe('Automation Plain');
    expect(plain.verboseNamePlural).toBe('Automations Plain');
  });
});
