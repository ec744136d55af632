import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type AutomationRunner,
  days,
  defineAutomation,
  FormPermissionError,
  FormValidationError,
  flow,
  hours,
} from '../../src/automations/index.ts';
import { harness, T0, trail } from './harness.ts';

/** The IssueDiscussion automation of the django-automations "Core concepts" page. */
function issueDiscussion(world: { mailbox: string[]; log: string[] }) {
  const log = (what: string) => () => {
    world.log.push(what);
  };
  return defineAutomation('IssueDiscussion', {
    nodes: {
      start: flow.execute(log('publish_announcement')),
      parallel: flow.split().next('moderation').next('warning').next('conf_call'),

      moderation: flow.if(() => world.mailbox.length === 0).thenDo('repeat'),
      moderate: flow.form(z.object({ approved: z.number().int().min(0) })).group('Moderators'),
      repeat: flow
        .if((ctx) => ctx.now >= (ctx.data.deadline as number))
        .thenDo('join')
        .elseDo('moderation')
        .afterWaitingFor(hours(1)),

      warning: flow.execute(log('send_deadline_warning')).afterWaitingFor(days(6)).next('join'),

      conf_call: flow.if((ctx) => ctx.data.confCallThisWeek === true).thenDo('moderate_call').elseDo('join'),
      moderate_call: flow.execute(log('block_calendar')),

      join: flow.join(),
      evaluate: flow.execute(log('evaluate')),
      end: flow.end(),
    },
  });
}

const moderator = { id: 'mo', groups: ['Moderators'] };

async function nodesOf(runner: AutomationRunner, id: string) {
  return (await runner.get(id)).paths.map((p) => `${p.node}:${p.status}`);
}

describe('IssueDiscussion (django-automations core-concepts example)', () => {
  it('runs three parallel paths, a moderated form loop and a join, end to end', async () => {
    const world = { mailbox: ['mail 1', 'mail 2'], log: [] as string[] };
    const { runner, clock, effects } = harness([issueDiscussion(world)]);
    const { id } = await runner.create('IssueDiscussion', { deadline: T0 + days(7), confCallThisWeek: true });

    expect(world.log).toEqual(['publish_announcement', 'block_calendar']);
    expect(await nodesOf(runner, id)).toEqual(['moderate:form', 'warning:active', 'join:joined']);
    expect(effects).toContainEqual(expect.objectContaining({ type: 'form-opened', node: 'moderate', assignment: { group: 'Moderators', permissions: [] } }));
    expect(await runner.openForms(moderator)).toHaveLength(1);
    expect(await runner.openForms({ id: 'visitor' })).toHaveLength(0);

    // Only moderators (or superusers) may process the form, and only with valid input.
    await expect(runner.submitForm(id, { node: 'moderate' }, { id: 'visitor' }, { approved: 2 })).rejects.toBeInstanceOf(FormPermissionError);
    await expect(runner.submitForm(id, { node: 'moderate' }, moderator, { approved: -1 })).rejects.toBeInstanceOf(FormValidationError);
    expect(await nodesOf(runner, id)).toEqual(['moderate:form', 'warning:active', 'join:joined']);

    world.mailbox.length = 0;
    await runner.submitForm(id, { node: 'moderate' }, moderator, { approved: 2 });
    expect((await runner.get(id)).data.moderate).toEqual({ approved: 2 });
    expect(await nodesOf(runner, id)).toEqual(['repeat:active', 'warning:active', 'join:joined']);

    // The moderation loop checks hourly; nothing joins before the deadline warning and the deadline.
    for (let h = 0; h < 30; h++) {
      clock.advance(hours(1));
      await runner.runUntilIdle();
    }
    expect(world.log).not.toContain('evaluate');
    expect(await nodesOf(runner, id)).toEqual(['repeat:active', 'warning:active', 'join:joined']);

    clock.set(T0 + days(6));
    await runner.runUntilIdle();
    expect(world.log).toContain('send_deadline_warning');
    expect(world.log).not.toContain('evaluate');
    expect(await nodesOf(runner, id)).toEqual(['repeat:active', 'join:joined', 'join:joined']);

    clock.set(T0 + days(7) + hours(1));
    await runner.runUntilIdle();
    expect(world.log.slice(-1)).toEqual(['evaluate']);
    const done = await runner.get(id);
    expect(done.finished).toBe(true);
    const rows = await trail(runner, id);
    expect(rows.filter(([node]) => node === 'join')).toHaveLength(3);
    expect(rows.slice(-2)).toEqual([
      ['evaluate', 'OK'],
      ['end', 'OK'],
    ]);
    const history = await runner.history(id);
    expect(history.find((r) => r.status === 'moderate')?.completedBy).toBe('mo');
  });

  it('goes straight to the join when there is no conference call this week', async () => {
    const world = { mailbox: [] as string[], log: [] as string[] };
    const { runner } = harness([issueDiscussion(world)]);
    const { id } = await runner.create('IssueDiscussion', { deadline: T0 + days(7), confCallThisWeek: false });
    expect(world.log).toEqual(['publish_announcement']);
    expect(await nodesOf(runner, id)).toEqual(['repeat:active', 'warning:active', 'join:joined']);
  });
});
