import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AutomationDefinitionError, defineAutomation, flow, hours, minutes } from '../../src/automations/index.ts';
import { harness, T0, trail } from './harness.ts';

describe('modifiers', () => {
  it('Next jumps to the named node instead of the next declared one', async () => {
    const def = defineAutomation('Goto', {
      nodes: { a: flow.execute().next('c'), b: flow.execute(), c: flow.end() },
    });
    const { runner } = harness([def]);
    const { id } = await runner.create(def);
    expect((await trail(runner, id)).map(([n]) => n)).toEqual(['a', 'c']);
  });

  it('AsSoonAs waits until the condition holds, checked on every run', async () => {
    const def = defineAutomation('Gate', {
      receivers: {
        open: (ctx) => {
          ctx.data.open = true;
        },
      },
      nodes: { gate: flow.execute(() => 'passed').asSoonAs((ctx) => ctx.data.open === true), end: flow.end() },
    });
    const { runner } = harness([def]);
    const { id } = await runner.create(def);
    expect((await runner.stepAll()).advanced).toBe(0);
    expect((await runner.get(id)).finished).toBe(false);
    await runner.sendMessage(id, 'open');
    expect((await runner.get(id)).finished).toBe(true);
  });

  it('AfterWaitingUntil and AfterWaitingFor never run a node early and store the due time durably', async () => {
    const def = defineAutomation('Waits', {
      nodes: {
        until: flow.execute().afterWaitingUntil(new Date(T0 + hours(2))),
        for: flow.execute().afterWaitingFor((ctx) => (ctx.data.pause as number) * 60_000),
        end: flow.end(),
      },
    });
    const { runner, clock } = harness([def]);
    const { id, dueAt } = await runner.create(def, { pause: 30 });
    expect(dueAt).toBe(T0 + hours(2));
    clock.advance(hours(2) - 1);
    await runner.runUntilIdle();
    expect((await runner.get(id)).paths[0]?.node).toBe('until');
    clock.advance(1);
    await runner.runUntilIdle();
    expect((await runner.get(id)).paths[0]).toMatchObject({ node: 'for', waitUntil: T0 + hours(2) + minutes(30) });
    clock.advance(minutes(30));
    await runner.runUntilIdle();
    expect((await runner.get(id)).finished).toBe(true);
  });

  it('stops the path with InvalidWaitError, naming the automation, the node and the value, when a wait function returns no time', async () => {
    const def = defineAutomation('BadWaits', {
      nodes: {
        start: flow.execute(),
        remind: flow.execute().afterWaitingUntil((ctx) => ctx.data.when as never),
        end: flow.end(),
      },
    });
    const { runner } = harness([def]);
    for (const [when, shown] of [
      ['tomorrow', '"tomorrow" (string)'],
      [undefined, 'undefined'],
      [new Date('not a date'), 'Date(invalid)'],
      [Number.NaN, 'NaN (number)'],
    ] as const) {
      const { id } = await runner.create(def, { when });
      const instance = await runner.get(id);
      const message = `Automation "BadWaits", instance ${id}: the .afterWaitingUntil() function of node "remind" returned ${shown}, not a time; return epoch milliseconds or a valid Date.`;
      expect(instance.paths[0]).toMatchObject({ node: 'remind', status: 'error', error: expect.stringContaining(message) });
      expect((await runner.history(id)).at(-1)).toMatchObject({ status: 'remind', message: expect.stringMatching(/^InvalidWaitError: /) });
      expect(instance.finished).toBe(false);
    }
  });

  it('refuses a wait function that returns a negative duration, as the constant is refused', async () => {
    const def = defineAutomation('Negative', {
      nodes: { start: flow.execute(), pause: flow.execute().afterWaitingFor(() => -minutes(5)), end: flow.end() },
    });
    const { runner } = harness([def]);
    const { id } = await runner.create(def);
    expect((await runner.get(id)).paths[0]).toMatchObject({
      node: 'pause',
      status: 'error',
      error: expect.stringContaining('the .afterWaitingFor() function of node "pause" returned -300000 (number), not a duration; return zero or more milliseconds'),
    });
    expect(() => defineAutomation('NegativeConstant', { nodes: { pause: flow.execute().afterWaitingFor(-1), end: flow.end() } })).toThrow(
      /nodes\.pause\.afterWaitingFor: the duration must be zero or positive/,
    );
    expect(() => defineAutomation('BadConstant', { nodes: { pause: flow.execute().afterWaitingUntil(new Date('x')), end: flow.end() } })).toThrow(
      /nodes\.pause\.afterWaitingUntil: the time must be epoch milliseconds or a valid Date, got Date\(invalid\)/,
    );
  });

  it('SkipIf leaves the node unprocessed with the message "skipped"', async () => {
    let ran = false;
    const def = defineAutomation('Skips', {
      nodes: {
        mail: flow
          .execute(() => {
            ran = true;
          })
          .skipIf((ctx) => ctx.data.optedOut === true)
          .next('end'),
        other: flow.execute(),
        end: flow.end(),
      },
    });
    const { runner } = harness([def]);
    const { id } = await runner.create(def, { optedOut: true });
    expect(ran).toBe(false);
    expect(await trail(runner, id)).toEqual([
      ['mail', 'skipped'],
      ['end', 'OK'],
    ]);
  });

  it('SkipAfter skips a form nobody processed in time', async () => {
    const def = defineAutomation('Reminder', {
      nodes: {
        confirm: flow.form(z.object({ ok: z.boolean() })).user('u1').skipAfter(hours(24)),
        end: flow.end(),
      },
    });
    const { runner, clock } = harness([def]);
    const created = await runner.create(def);
    expect(created.dueAt).toBe(T0 + hours(24));
    clock.advance(hours(23));
    await runner.runUntilIdle();
    expect((await runner.get(created.id)).finished).toBe(false);
    clock.advance(hours(1));
    await runner.runUntilIdle();
    expect(await trail(runner, created.id)).toEqual([
      ['confirm', 'skipped'],
      ['end', 'OK'],
    ]);
  });

  it('SkipIf and SkipAfter take precedence over waiting: a skipped node does not wait and its AsSoonAs need not hold', async () => {
    const def = defineAutomation('Precedence', {
      nodes: {
        waitsLong: flow
          .execute(() => 'ran')
          .afterWaitingFor(hours(10))
          .asSoonAs(false)
          .skipAfter(hours(1)),
        neverTrue: flow.execute(() => 'ran').asSoonAs(false).afterWaitingUntil(T0 + hours(100)).skipIf((ctx) => ctx.data.skip === true),
        end: flow.end(),
      },
    });
    const { runner, clock } = harness([def]);
    const { id } = await runner.create(def, { skip: false });
    expect((await runner.get(id)).dueAt).toBe(T0 + hours(1));
    clock.advance(hours(1));
    await runner.runUntilIdle();
    expect((await runner.get(id)).paths[0]?.node).toBe('neverTrue');
    const other = await runner.create(def, { skip: true });
    clock.advance(hours(1));
    await runner.runUntilIdle();
    expect(await trail(runner, other.id)).toEqual([
      ['waitsLong', 'skipped'],
      ['neverTrue', 'skipped'],
      ['end', 'OK'],
    ]);
  });

  describe('a modifier given twice (the reference refuses it: "Multiple .Next statements", …)', () => {
    const problemsOf = (build: () => unknown): string[] => {
      try {
        build();
      } catch (error) {
        if (error instanceof AutomationDefinitionError) return error.problems.map((p) => `${p.path}: ${p.message}`);
        throw error;
      }
      return [];
    };

    it('is a definition error listing every repeated modifier, never a silent overwrite', () => {
      const problems = problemsOf(() =>
        defineAutomation('Twice', {
          nodes: {
            start: flow.execute().next('a').next('b'),
            a: flow.execute().afterWaitingFor(hours(1)).afterWaitingFor(hours(2)).onError('b').onError('end'),
            b: flow.execute().afterWaitingUntil(T0).afterWaitingFor(hours(1)).skipAfter(hours(1)).skipAfter(hours(2)),
            check: flow.if(true).thenDo('a').thenDo('b').elseDo('end').elseDo('a'),
            tick: flow.repeat().everyHour().everyNMinutes(5),
            daily: flow.repeat().at(9, 0).everyDay(),
            ask: flow.form(z.object({})).user('u1').user('u2').group('g1').group('g2').permission('p1').permission('p2'),
            end: flow.end(),
          },
        }),
      );
      expect(problems).toEqual([
        'nodes.start.next: .next() is given twice; a node continues with one node (only a split takes several .next()); keep one',
        'nodes.a.afterWaitingFor: .afterWaitingFor() is given twice; a node has one wait; keep one',
        'nodes.a.onError: .onError() is given twice; keep one',
        'nodes.b.afterWaitingFor: .afterWaitingFor() is given after .afterWaitingUntil(); a node has one wait; keep one',
        'nodes.b.skipAfter: .skipAfter() is given twice; keep one',
        'nodes.check.thenDo: .thenDo() is given twice; keep one',
        'nodes.check.elseDo: .elseDo() is given twice; keep one',
        'nodes.tick.everyNMinutes: .everyNMinutes() is given after .everyHour(); a repeat has one schedule; keep one',
        'nodes.daily.everyDay: .everyDay() is given after .at(); a repeat has one schedule; keep one',
        'nodes.ask.user: .user() is given twice; keep one',
        'nodes.ask.group: .group() is given twice; keep one',
      ]);
    });

    it('lets a split take one .next() per path and a form one .permission() per required permission', () => {
      expect(
        problemsOf(() =>
          defineAutomation('Allowed', {
            nodes: {
              split: flow.split().next('a').next('b'),
              a: flow.form(z.object({})).permission('p1').permission('p2').next('join'),
              b: flow.execute(),
              join: flow.join(),
              end: flow.end(),
            },
          }),
        ),
      ).toEqual([]);
    });

    it('requires every repeated AsSoonAs condition and skips on any repeated SkipIf condition, as the reference collects them', async () => {
      const def = defineAutomation('Collected', {
        receivers: {
          set: (ctx, token) => {
            ctx.data[token as string] = true;
          },
        },
        nodes: {
          gate: flow
            .execute(() => 'passed')
            .asSoonAs((ctx) => ctx.data.a === true)
            .asSoonAs((ctx) => ctx.data.b === true),
          mail: flow
            .execute(() => 'mailed')
            .skipIf((ctx) => ctx.data.optedOut === true)
            .skipIf((ctx) => ctx.data.bounced === true),
          end: flow.end(),
        },
      });
      const { runner } = harness([def]);
      const { id } = await runner.create(def, { optedOut: true });
      await runner.sendMessage(id, 'set', 'b');
      expect((await runner.get(id)).paths[0]?.node).toBe('gate');
      await runner.sendMessage(id, 'set', 'a');
      expect(await trail(runner, id)).toEqual([
        ['gate', 'OK'],
        ['mail', 'skipped'],
        ['end', 'OK'],
      ]);
    });
  });
});
