import { describe, expect, it } from 'vitest';
import {
  AutomationDefinitionError,
  FormValidationError,
  type InstanceRecord,
  loadWsAutomation,
  loadWsWorkflow,
  compileWsWorkflow,
  MemoryAutomationStorage,
  NoOpenFormError,
  wsProcessFailed,
  wsProcessRevoked,
  wsWorkflowOf,
} from '../../src/automations/index.ts';
import { harness, T0, trail } from './harness.ts';
import { emptyResults, emptyResultsCode, review, reviewCode, runConferenceOnRunner } from './ws-scenarios.ts';

describe('django-ws workflows on the automation runner (memory storage)', () => {
  it('runs the conference example: several start nodes, AND split and join, XOR join with a loop, roles as groups', async () => {
    const storage = new MemoryAutomationStorage();
    await runConferenceOnRunner(storage, async () => storage);
  });

  it('XOR split follows only the first matching transition; AND split every matching one', async () => {
    const { runner } = harness([loadWsAutomation(review('XOR'), reviewCode), loadWsAutomation(review('AND'), reviewCode)]);
    const xor = await runner.create('Review XOR', { verdict: 'approve' });
    expect(await trail(runner, xor.id)).toEqual([
      ['review', 'OK'],
      ['notify', 'OK'],
    ]);
    expect(xor.finished).toBe(false);
    expect(xor.paths).toEqual([]);
    const and = await runner.create('Review AND', { verdict: 'reject' });
    expect(await trail(runner, and.id)).toEqual([
      ['review', 'OK'],
      ['notify', 'OK'],
      ['archive', 'OK'],
    ]);
    expect(and.finished).toBe(true);
    expect((await runner.history(and.id))[0]?.result).toBe('reject');
  });

  it('a XOR join stops the other parent nodes when it fires', async () => {
    const race = loadWsAutomation({
      name: 'Race',
      roles: ['Staff'],
      nodes: [
        { name: 'fast', start: true },
        { name: 'slow', start: true, role: 'Staff', requires: ['answer'] },
        { name: 'first', join: 'XOR' },
        { name: 'done', end: true },
      ],
      transitions: [
        { from: 'fast', to: 'first' },
        { from: 'slow', to: 'first' },
        { from: 'first', to: 'done' },
      ],
    });
    const { runner, effects } = harness([race]);
    const instance = await runner.create('Race');
    expect(await trail(runner, instance.id)).toEqual([
      ['fast', 'OK'],
      ['slow', 'stopped'],
      ['first', 'OK'],
      ['done', 'OK'],
    ]);
    expect(instance.finished).toBe(true);
    expect(effects.map((e) => e.type)).toEqual(['form-opened', 'finished']);
    await expect(runner.submitForm(instance.id, { taskId: 2 }, { id: 's', groups: ['Staff'] }, { answer: 1 })).rejects.toThrow(/has finished/);
  });

  it('a failing task stops its path with the error and keeps the data as it was', async () => {
    const wf = loadWsAutomation(
      { name: 'Fragile', nodes: [{ name: 'a', start: true, task: 'boom' }, { name: 'b', end: true }], transitions: [{ from: 'a', to: 'b' }] },
      {
        tasks: {
          boom: (_params, data) => {
            data.touched = true;
            throw new RangeError('no stock');
          },
        },
      },
    );
    const { runner } = harness([wf]);
    const instance = await runner.create('Fragile');
    expect(await trail(runner, instance.id)).toEqual([['a', 'RangeError: no stock']]);
    expect(instance.data).toEqual({});
    expect(instance.paths).toMatchObject([{ node: 'a', status: 'error' }]);
    expect(instance.paths[0]?.error).toMatch(/Workflow "Fragile", instance .*: task of node "a" failed \(RangeError: no stock\)/);
    expect(instance.dueAt).toBeNull();
  });

  it('a process whose end task fails ends in a failed state: finished, the end path failed, the other pending tasks stopped', async () => {
    const wf = loadWsAutomation(
      {
        name: 'FailingEnd',
        roles: ['Staff'],
        nodes: [
          { name: 'a', start: true },
          { name: 'ask', start: true, role: 'Staff', requires: ['answer'] },
          { name: 'close', end: true, task: 'boom' },
        ],
        transitions: [{ from: 'a', to: 'close' }],
      },
      {
        tasks: {
          boom: () => {
            throw new RangeError('archive offline');
          },
        },
      },
    );
    const { runner, effects } = harness([wf]);
    const instance = await runner.create('FailingEnd');
    expect(instance.finished).toBe(true);
    expect(instance.finishedAt).toBe(T0);
    expect(wsProcessFailed(instance)).toBe(true);
    expect(instance.paths).toMatchObject([{ node: 'close', status: 'error', failedEnd: true }]);
    expect(await trail(runner, instance.id)).toEqual([
      ['a', 'OK'],
      ['ask', 'stopped'],
      ['close', 'RangeError: archive offline'],
    ]);
    expect(effects.filter((e) => e.type === 'finished')).toHaveLength(1);
    await expect(runner.run(instance.id)).rejects.toMatchObject({ code: 'automation-instance-finished' });
    const ok = loadWsAutomation({ name: 'Fine', nodes: [{ name: 'only', start: true, end: true }] });
    runner.register(ok);
    expect(wsProcessFailed(await runner.create('Fine'))).toBe(false);
  });

  it('a task with an empty result follows only its unconditional transitions, yet fulfils its conditional ones into an AND join, as the reference', async () => {
    const wf = loadWsAutomation(emptyResults, emptyResultsCode);
    const { runner } = harness([wf]);
    const instance = await runner.create('EmptyResults');
    expect((await trail(runner, instance.id)).map(([node]) => node)).toEqual(['a', 'b', 'c', 'joined', 'always']);
    expect(instance.paths).toEqual([]);
  });

  it('an open human task lists the parameters still missing for it: required, and in neither the parameters nor the process data', async () => {
    const wf = loadWsAutomation({
      name: 'Booking',
      roles: ['Staff'],
      params: { currency: 'EUR' },
      nodes: [{ name: 'book', start: true, end: true, role: 'Staff', params: { hotel: 'Ritz' }, requires: ['currency', 'hotel', 'nights', 'guest', 'date'] }],
    });
    const { runner } = harness([wf]);
    const { id } = await runner.create('Booking', { guest: 'Ada' });
    const [form] = await runner.openForms({ id: 's', groups: ['Staff'] });
    expect(form).toMatchObject({ instanceId: id, node: 'book', missing: ['nights', 'date'] });
  });

  describe('sub-processes (a node whose task starts a process of another workflow, its parent task)', () => {
    const catering = (failing: boolean) =>
      loadWsAutomation(
        {
          name: 'Catering',
          nodes: [
            { name: 'choose', start: true, task: 'choose' },
            { name: 'confirm', end: true, task: 'confirm' },
          ],
          transitions: [{ from: 'choose', to: 'confirm' }],
        },
        {
          tasks: {
            choose: (params, data) => {
              data.menu = `${params.diet} menu`;
              return data.menu;
            },
            confirm: (_params, data) => {
              if (failing) throw new Error('kitchen closed');
              return data.menu;
            },
          },
        },
      );
    const conference = loadWsAutomation(
      {
        name: 'Conference',
        nodes: [
          { name: 'plan catering', start: true, subprocess: 'Catering', params: { diet: 'vegan' } },
          { name: 'celebrate', end: true },
        ],
        transitions: [{ from: 'plan catering', to: 'celebrate', condition: { resultEquals: 'vegan menu' } }],
      },
      {},
    );

    it('the parent task waits for its sub-process, which starts with the task parameters, and ends with the results of its end tasks', async () => {
      const { runner } = harness([conference, catering(false)]);
      const parent = await runner.create('Conference', { guests: 80 });
      expect(parent.paths).toMatchObject([{ node: 'plan catering', status: 'subprocess' }]);
      const [child] = await runner.list({ automation: 'Catering' });
      expect(child?.parent).toEqual({ instanceId: parent.id, taskId: parent.paths[0]?.taskId });
      expect(child?.data).toEqual({ guests: 80, diet: 'vegan' });
      await runner.runUntilIdle();
      expect((await runner.get(child?.id as string)).finished).toBe(true);
      const done = await runner.get(parent.id);
      expect(done.finished).toBe(true);
      expect(done.data).toEqual({ guests: 80 });
      expect((await runner.history(parent.id)).map((row) => [row.status, row.message, row.result])).toEqual([
        ['plan catering', 'OK', 'vegan menu'],
        ['celebrate', 'OK', null],
      ]);
    });

    it('a failed sub-process fails its parent task', async () => {
      const { runner } = harness([conference, catering(true)]);
      const parent = await runner.create('Conference');
      await runner.runUntilIdle();
      const [child] = await runner.list({ automation: 'Catering' });
      expect(wsProcessFailed(child as InstanceRecord)).toBe(true);
      const after = await runner.get(parent.id);
      expect(after.finished).toBe(false);
      expect(after.paths).toMatchObject([{ node: 'plan catering', status: 'error' }]);
      expect(after.paths[0]?.error).toContain(`sub-process ${child?.id} of workflow "Catering" failed`);
      expect((await runner.history(parent.id)).at(-1)).toMatchObject({ status: 'plan catering', message: `sub-process ${child?.id} failed` });
    });

    it('stopping the parent task (a XOR join firing) revokes its sub-process, as the reference revokes a task\'s subprocesses', async () => {
      const slow = loadWsAutomation({ name: 'Slow child', roles: ['Staff'], nodes: [{ name: 'ask', start: true, end: true, role: 'Staff', requires: ['x'] }] });
      const race = loadWsAutomation({
        name: 'Race',
        roles: ['Staff'],
        nodes: [
          { name: 'fast', start: true, role: 'Staff', requires: ['go'] },
          { name: 'slow', start: true, subprocess: 'Slow child' },
          { name: 'first', join: 'XOR', end: true },
        ],
        transitions: [
          { from: 'fast', to: 'first' },
          { from: 'slow', to: 'first' },
        ],
      });
      const { runner } = harness([race, slow]);
      const parent = await runner.create('Race');
      await runner.runUntilIdle();
      const [child] = await runner.list({ automation: 'Slow child' });
      expect(child?.id).toBe(`${parent.id}.2`);
      expect((await runner.openForms()).map((f) => f.node).sort()).toEqual(['ask', 'fast']);
      await runner.submitForm(parent.id, { node: 'fast' }, { id: 's', groups: ['Staff'] }, { go: true });
      await runner.runUntilIdle();
      expect(await trail(runner, parent.id)).toEqual([
        ['fast', 'OK'],
        ['slow', 'stopped'],
        ['first', 'OK'],
      ]);
      const revoked = await runner.get(child?.id as string);
      expect([revoked.finished, wsProcessRevoked(revoked), wsProcessFailed(revoked)]).toEqual([true, true, false]);
      expect(await trail(runner, revoked.id)).toEqual([['ask', 'stopped']]);
      expect(await runner.undeliverableMessages()).toEqual([]);
    });

    it('refuses a node with both a task and a sub-process', () => {
      expect(() => loadWsAutomation({ name: 'Both', nodes: [{ name: 'x', start: true, task: 't', subprocess: 'Catering' }] }, { tasks: { t: () => 1 } })).toThrow(
        /nodes\.0\.subprocess: a node runs a task or starts a sub-process, not both/,
      );
    });
  });

  it('stops an automatic loop instead of spinning forever, one transaction per activation', async () => {
    const spin = loadWsAutomation({
      name: 'Spin',
      nodes: [{ name: 'a', start: true }, { name: 'b' }],
      transitions: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'a' },
      ],
    });
    const { runner } = harness([spin]);
    const created = await runner.create('Spin');
    expect(created.dueAt).toBe(T0);
    await runner.runUntilIdle();
    const instance = await runner.get(created.id);
    expect(instance.paths).toHaveLength(1);
    expect(instance.paths[0]?.error).toMatch(/more than 1000 activations without human input/);
    expect(instance.dueAt).toBeNull();
    expect(await runner.history(created.id)).toHaveLength(1000);
  });

  it('validates task input and reports tasks that are not open', async () => {
    const wf = loadWsAutomation({ name: 'Ask', roles: ['Staff'], nodes: [{ name: 'ask', start: true, end: true, role: 'Staff', requires: ['answer'] }] });
    const { runner } = harness([wf]);
    const instance = await runner.create('Ask');
    const staff = { id: 's', groups: ['Staff'] };
    await expect(runner.submitForm(instance.id, { node: 'ask' }, staff, 'yes')).rejects.toBeInstanceOf(FormValidationError);
    await expect(runner.submitForm(instance.id, { taskId: 9 }, staff, { answer: 1 })).rejects.toBeInstanceOf(NoOpenFormError);
    expect((await runner.submitForm(instance.id, { node: 'ask' }, staff, { answer: 'yes' })).finished).toBe(true);
  });

  it('keeps the loader’s validation: bad JSON is reported with every problem before anything runs', () => {
    expect(() => loadWsAutomation({ name: 'Bad', nodes: [{ name: '', split: 'OR' }], transitions: [{ from: 'x' }] })).toThrow(AutomationDefinitionError);
    const wf = loadWsWorkflow({ name: 'Tiny', nodes: [{ name: 'only', start: true, end: true }] });
    const definition = compileWsWorkflow(wf, { verboseName: 'A tiny workflow' });
    expect(definition).toMatchObject({ name: 'Tiny', verboseName: 'A tiny workflow', order: ['only'] });
    expect(wsWorkflowOf(definition)).toBe(wf);
  });
});
