import { describe, expect, it } from 'vitest';
import {
  AutomationDefinitionError,
  completeWsTask,
  loadWsWorkflow,
  startWsProcess,
  type WsProcess,
  WsTaskError,
} from '../../src/automations/index.ts';
import { T0 } from './harness.ts';
import { conference, conferenceCode, emptyResults, emptyResultsCode, review, reviewCode } from './ws-scenarios.ts';

function load(log: string[]) {
  return loadWsWorkflow(conference, conferenceCode(log));
}

const pending = (p: WsProcess) => p.tasks.filter((t) => t.status === 'pending').map((t) => t.node);
const taskOf = (p: WsProcess, node: string) => p.tasks.filter((t) => t.node === node && t.status === 'pending')[0]?.id as number;
const accountant = { id: 'acc', roles: ['Accounting'] };
const organiser = { id: 'org', roles: ['Organization'] };

describe('django-ws JSON workflows', () => {
  it('run the conference example: several start nodes, AND split and join, XOR join with a loop, roles', async () => {
    const log: string[] = [];
    const wf = load(log);
    let p = await startWsProcess(wf, { id: 'conf', now: T0 });
    // Both start nodes fired; the location search needs a human of role Organization.
    expect(log).toEqual(['call for papers sent']);
    expect(pending(p)).toEqual(['Search a location', 'Collect papers']);

    await expect(completeWsTask(wf, p, taskOf(p, 'Collect papers'), organiser, { papers: 12 }, T0)).rejects.toBeInstanceOf(WsTaskError);
    p = await completeWsTask(wf, p, taskOf(p, 'Collect papers'), accountant, { papers: 12 }, T0);
    // Publicize has an AND join: it waits for the location too.
    expect(p.tasks.some((t) => t.node === 'Publicize')).toBe(false);
    p = await completeWsTask(wf, p, taskOf(p, 'Search a location'), organiser, { location: 'Bilbao' }, T0);
    expect(p.tasks.filter((t) => t.node === 'Publicize').map((t) => t.status)).toEqual(['done']);
    expect(p.data.channels).toBe(3);
    // Receive subscriptions has a XOR join: the first channel fires it, the other arrivals do not fire it again.
    expect(p.tasks.filter((t) => t.node === 'Receive subscriptions')).toHaveLength(1);
    expect(pending(p)).toEqual(['Receive subscriptions']);

    p = await completeWsTask(wf, p, taskOf(p, 'Receive subscriptions'), accountant, { subscriptions: 40 }, T0);
    expect(pending(p)).toEqual(['Receive subscriptions']);
    p = await completeWsTask(wf, p, taskOf(p, 'Receive subscriptions'), { id: 'root', superuser: true }, { subscriptions: 25, startingDay: true }, T0);
    expect(p.finished).toBe(true);
    expect(p.data.total).toBe(65);
    expect(p.tasks.at(-1)).toMatchObject({ node: 'Start the conference', status: 'done' });
  });

  it('XOR split follows only the first matching transition; AND split every matching one', async () => {
    const xor = await startWsProcess(loadWsWorkflow(review('XOR'), reviewCode), { id: 'x', data: { verdict: 'approve' }, now: T0 });
    expect(xor.tasks.map((t) => t.node)).toEqual(['review', 'notify']);
    expect(xor.finished).toBe(false);
    const and = await startWsProcess(loadWsWorkflow(review('AND'), reviewCode), { id: 'a', data: { verdict: 'reject' }, now: T0 });
    expect(and.tasks.map((t) => t.node)).toEqual(['review', 'notify', 'archive']);
    expect(and.finished).toBe(true);
  });

  it('a XOR join stops the other parent nodes when it fires', async () => {
    const wf = loadWsWorkflow({
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
    const p = await startWsProcess(wf, { id: 'r', now: T0 });
    expect(p.tasks.map((t) => [t.node, t.status])).toEqual([
      ['fast', 'done'],
      ['slow', 'stopped'],
      ['first', 'done'],
      ['done', 'done'],
    ]);
    expect(p.finished).toBe(true);
    await expect(completeWsTask(wf, p, 2, { id: 's', roles: ['Staff'] }, { answer: 1 }, T0)).rejects.toThrow(/stopped, not pending/);
  });

  it('a process whose end task fails ends in a failed state', async () => {
    const wf = loadWsWorkflow(
      { name: 'FailingEnd', nodes: [{ name: 'a', start: true }, { name: 'close', end: true, task: 'boom' }], transitions: [{ from: 'a', to: 'close' }] },
      {
        tasks: {
          boom: () => {
            throw new RangeError('archive offline');
          },
        },
      },
    );
    const process = await startWsProcess(wf, { id: 'p', now: T0 });
    expect([process.finished, process.failed, process.finishedAt]).toEqual([true, true, T0]);
    expect(process.tasks.map((t) => t.status)).toEqual(['done', 'failed']);
    const fine = await startWsProcess(loadWsWorkflow({ name: 'Fine', nodes: [{ name: 'only', start: true, end: true }] }), { id: 'q', now: T0 });
    expect([fine.finished, fine.failed]).toEqual([true, false]);
  });

  it('a task with an empty result follows only its unconditional transitions, yet fulfils its conditional ones into an AND join, as the reference', async () => {
    const wf = loadWsWorkflow(emptyResults, emptyResultsCode);
    const process = await startWsProcess(wf, { id: 'p', now: T0 });
    expect(process.tasks.map((t) => t.node)).toEqual(['a', 'b', 'c', 'joined', 'always']);
    expect(process.arrivals).toEqual({});
  });

  it('fails a sub-process task, which needs the automation runner, naming what to do', async () => {
    const wf = loadWsWorkflow({ name: 'Parent', nodes: [{ name: 'child', start: true, end: true, subprocess: 'Other' }] });
    const process = await startWsProcess(wf, { id: 'p', now: T0 });
    expect(process.tasks[0]).toMatchObject({ status: 'failed', error: expect.stringContaining('needs the automation runner: compile the workflow with compileWsWorkflow') });
  });

  it('stops an automatic loop instead of spinning forever', async () => {
    const wf = loadWsWorkflow({
      name: 'Spin',
      nodes: [{ name: 'a', start: true }, { name: 'b' }],
      transitions: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'a' },
      ],
    });
    await expect(startWsProcess(wf, { id: 's', now: T0 })).rejects.toThrow(/more than 1000 activations/);
  });

  it('reports every problem of a malformed workflow with its path', () => {
    const shape = () => loadWsWorkflow({ name: 'Bad', nodes: [{ name: '', split: 'OR' }], transitions: [{ from: 'x' }] });
    expect(shape).toThrow(AutomationDefinitionError);
    try {
      shape();
    } catch (e) {
      expect((e as AutomationDefinitionError).problems.map((p) => p.path)).toEqual(['nodes.0.name', 'nodes.0.split', 'transitions.0.to']);
    }
    try {
      loadWsWorkflow({
        name: 'Dangling',
        nodes: [{ name: 'a', role: 'Ghost', task: 'missing' }, { name: 'a' }],
        transitions: [{ from: 'a', to: 'b', condition: 'unknown' }],
      });
      expect.unreachable();
    } catch (e) {
      expect((e as AutomationDefinitionError).problems).toEqual([
        { path: 'nodes.0.role', message: 'role "Ghost" is not declared in roles' },
        { path: 'nodes.0.task', message: 'task "missing" is not registered' },
        { path: 'nodes.1.name', message: 'duplicate node name "a"' },
        { path: 'nodes', message: 'at least one node must be a start node' },
        { path: 'transitions.0.to', message: 'unknown node "b"' },
        { path: 'transitions.0.condition', message: 'condition "unknown" is not registered' },
      ]);
    }
  });
});
