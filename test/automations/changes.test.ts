import { describe, expect, it } from 'vitest';
import { defineAutomation, flow, hours } from '../../src/automations/index.ts';
import { harness, trail } from './harness.ts';

/** The definition as first deployed: an instance waits at "review" for a day. */
const v1 = (log: string[]) =>
  defineAutomation('Evolving', {
    nodes: {
      start: flow.execute(() => {
        log.push('start v1');
      }),
      review: flow
        .execute(() => {
          log.push('review v1');
        })
        .afterWaitingFor(hours(24)),
      end: flow.end(),
    },
  });

describe('changing definitions while instances run', () => {
  it('runs nodes added after the instance started once its pointer reaches them', async () => {
    const log: string[] = [];
    const { runner, clock } = harness([v1(log)]);
    const { id } = await runner.create('Evolving');
    runner.register(
      defineAutomation('Evolving', {
        nodes: {
          start: flow.execute(),
          review: flow.execute(() => {
            log.push('review v1');
          }).afterWaitingFor(hours(24)),
          archive: flow.execute(() => {
            log.push('archive (added)');
          }),
          end: flow.end(),
        },
      }),
    );
    clock.advance(hours(24));
    await runner.runUntilIdle();
    expect(log).toEqual(['start v1', 'review v1', 'archive (added)']);
    expect((await trail(runner, id)).map(([n]) => n)).toEqual(['start', 'review', 'archive', 'end']);
  });

  it('applies a changed node only to instances that have not processed it yet', async () => {
    const log: string[] = [];
    const { runner, clock } = harness([v1(log)]);
    const { id } = await runner.create('Evolving');
    runner.register(
      defineAutomation('Evolving', {
        nodes: {
          start: flow.execute(() => {
            log.push('start v2');
          }),
          review: flow.execute(() => {
            log.push('review v2');
          }),
          end: flow.end(),
        },
      }),
    );
    await runner.runUntilIdle();
    // The waiting instance is processed as the node is declared now: v2 has no wait.
    expect(log).toEqual(['start v1', 'review v2']);
    expect((await runner.get(id)).finished).toBe(true);
    clock.advance(hours(1));
    await runner.create('Evolving');
    expect(log.slice(-2)).toEqual(['start v2', 'review v2']);
  });

  it('stops an instance at a removed node with a clear error, and the documented procedure removes nodes safely', async () => {
    const log: string[] = [];
    const withoutReview = defineAutomation('Evolving', { nodes: { start: flow.execute(), end: flow.end() } });

    // Removing the node while an instance points at it is unsafe.
    const unsafe = harness([v1(log)]);
    const stuck = await unsafe.runner.create('Evolving');
    unsafe.runner.register(withoutReview);
    await unsafe.runner.runUntilIdle();
    const stopped = await unsafe.runner.get(stuck.id);
    expect(stopped.paths[0]?.status).toBe('error');
    expect(stopped.paths[0]?.error).toMatch(/no longer declares.*no-op execute\(\)/);

    // 1. replace the node by a no-op Execute without modifiers, 2. step, 3. remove it.
    const safe = harness([v1(log)]);
    const moving = await safe.runner.create('Evolving');
    safe.runner.register(defineAutomation('Evolving', { nodes: { start: flow.execute(), review: flow.execute(), end: flow.end() } }));
    await safe.runner.stepAll();
    safe.runner.register(withoutReview);
    await safe.runner.runUntilIdle();
    const done = await safe.runner.get(moving.id);
    expect(done.finished).toBe(true);
    expect(await trail(safe.runner, moving.id)).toEqual([
      ['start', 'OK'],
      ['review', 'OK'],
      ['end', 'OK'],
    ]);
  });
});
