import { describe, expect, it } from 'vitest';
import { DAY, defineAutomation, flow, hours, InstanceNotFoundError } from '../../src/automations/index.ts';
import { harness } from './harness.ts';

const waiting = (name: string, unique?: boolean | string[]) =>
  defineAutomation(name, {
    unique,
    receivers: {
      finish: (ctx) => {
        ctx.data.done = true;
      },
    },
    nodes: { wait: flow.execute().asSoonAs((ctx) => ctx.data.done === true), end: flow.end() },
  });

describe('instances', () => {
  it('each carry their own JSON data, a random URL key and a finished flag', async () => {
    const def = waiting('Plain');
    const { runner } = harness([def]);
    const a = await runner.create(def, { n: 1 });
    const b = await runner.create(def, { n: 2 });
    expect(a.id).not.toBe(b.id);
    expect(a.key).not.toBe(b.key);
    expect(a.key).toMatch(/^[0-9a-f]{32}$/);
    expect((await runner.getByKey(b.key)).data).toEqual({ n: 2 });
    expect(a.finished).toBe(false);
    await expect(runner.getByKey('nope')).rejects.toBeInstanceOf(InstanceNotFoundError);
  });

  it('of a singleton: creating while one runs returns the running one; after it finishes a new one starts', async () => {
    const def = waiting('Singleton', true);
    const { runner } = harness([def]);
    const first = await runner.create(def);
    expect((await runner.create(def)).id).toBe(first.id);
    await runner.sendMessage(first.id, 'finish');
    const next = await runner.create(def);
    expect(next.id).not.toBe(first.id);
    expect(await runner.list({ automation: 'Singleton' })).toHaveLength(2);
  });

  it('unique by data keys: one instance per combination of values', async () => {
    const def = waiting('PerEmail', ['email']);
    const { runner } = harness([def]);
    const a = await runner.create(def, { email: 'a@x', extra: 1 });
    expect((await runner.create(def, { email: 'a@x', extra: 2 })).id).toBe(a.id);
    expect((await runner.create(def, { email: 'b@x' })).id).not.toBe(a.id);
    // The same e-mail is never handled twice, even after the first instance finished.
    await runner.sendMessage(a.id, 'finish');
    expect((await runner.create(def, { email: 'a@x' })).id).toBe(a.id);
  });

  it('can be killed, which removes them with their history', async () => {
    const def = waiting('Killable');
    const { runner } = harness([def]);
    const { id } = await runner.create(def);
    await runner.kill(id);
    await expect(runner.get(id)).rejects.toBeInstanceOf(InstanceNotFoundError);
    expect(await runner.history(id)).toEqual([]);
    await expect(runner.kill(id)).rejects.toBeInstanceOf(InstanceNotFoundError);
  });

  it('need not run at creation (autorun: false) and are then started by the next step', async () => {
    const def = defineAutomation('Lazy', { nodes: { work: flow.execute(() => 'done'), end: flow.end() } });
    const { runner } = harness([def]);
    const created = await runner.create(def, {}, { autorun: false });
    expect(created.finished).toBe(false);
    expect((await runner.stepAll()).advanced).toBe(1);
    expect((await runner.get(created.id)).finished).toBe(true);
  });

  it('finished longer ago than the given days are deleted with their history by deleteHistory', async () => {
    const def = waiting('Archive');
    const { runner, clock } = harness([def]);
    const old = await runner.create(def);
    await runner.sendMessage(old.id, 'finish');
    clock.advance(20 * DAY);
    const recent = await runner.create(def);
    await runner.sendMessage(recent.id, 'finish');
    const running = await runner.create(def);
    clock.advance(15 * DAY);

    expect(await runner.deleteHistory(30)).toEqual({ deleted: 3, automations: 1, tasks: 2 });
    await expect(runner.get(old.id)).rejects.toBeInstanceOf(InstanceNotFoundError);
    expect((await runner.get(recent.id)).finished).toBe(true);
    expect(await runner.deleteHistory(14)).toEqual({ deleted: 3, automations: 1, tasks: 2 });
    expect((await runner.get(running.id)).finished).toBe(false);
    clock.advance(hours(1));
    expect(await runner.deleteHistory()).toEqual({ deleted: 0, automations: 0, tasks: 0 });
  });
});
