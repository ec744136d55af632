import { describe, expect, it } from 'vitest';
import { AutomationDefinitionError, DAY, defineAutomation, flow, hours, InstanceFinishedError, InstanceNotFoundError, MissingUniqueDataError } from '../../src/automations/index.ts';
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

  it('unique by data keys: creating without a key value is a MissingUniqueDataError and stores nothing', async () => {
    const def = waiting('PerEmailAndList', ['email', 'list']);
    const { runner } = harness([def]);
    const refused = runner.create(def, { email: 'a@x', list: null });
    await expect(refused).rejects.toBeInstanceOf(MissingUniqueDataError);
    await expect(refused).rejects.toMatchObject({
      code: 'automation-unique-data',
      name: 'MissingUniqueDataError',
      missing: ['list'],
      message: expect.stringContaining('Automation "PerEmailAndList" is unique by "email", "list", but the data lacks "list"'),
    });
    await expect(runner.create(def, {})).rejects.toMatchObject({ missing: ['email', 'list'] });
    expect(await runner.list({ automation: 'PerEmailAndList' })).toEqual([]);
  });

  it('unique by data keys: keys the reference reserves (automation, automation_id, autorun, "_…") or repeats are refused by the definition', () => {
    let error: unknown;
    try {
      waiting('Reserved', ['automation_id', 'autorun', 'automation', '_secret', 'email', 'email']);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AutomationDefinitionError);
    expect((error as AutomationDefinitionError).problems).toEqual([
      { path: 'unique[0]', message: '"automation_id" is reserved (the reference passes it to the automation, not into its data); use another data key' },
      { path: 'unique[1]', message: '"autorun" is reserved (the reference passes it to the automation, not into its data); use another data key' },
      { path: 'unique[2]', message: '"automation" is reserved (the reference passes it to the automation, not into its data); use another data key' },
      { path: 'unique[3]', message: 'data keys beginning with "_" are reserved; use another data key' },
      { path: 'unique[5]', message: '"email" is listed twice; list each data key once' },
    ]);
  });

  it('refuse run() once finished with InstanceFinishedError, changing nothing, as the reference throws for an ended automation', async () => {
    const def = defineAutomation('Short', { nodes: { work: flow.execute(() => 'done'), end: flow.end() } });
    const { runner } = harness([def]);
    const done = await runner.create(def);
    expect(done.finished).toBe(true);
    const history = await runner.history(done.id);
    const refused = runner.run(done.id);
    await expect(refused).rejects.toBeInstanceOf(InstanceFinishedError);
    await expect(refused).rejects.toMatchObject({
      code: 'automation-instance-finished',
      message: `Automation "Short", instance ${done.id}: cannot run it because the instance has finished. Create a new instance instead.`,
    });
    expect(await runner.history(done.id)).toEqual(history);
    expect(await runner.get(done.id)).toEqual(done);
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
