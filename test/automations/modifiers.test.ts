import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAutomation, flow, hours, minutes } from '../../src/automations/index.ts';
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
});
