import { expect } from 'vitest';
import {
  type AutomationStorage,
  createAutomationRunner,
  FormPermissionError,
  FormValidationError,
  loadWsAutomation,
  ManualClock,
  type InstanceRecord,
} from '../../src/automations/index.ts';
import { T0 } from './harness.ts';

/** The "Organizing a conference" workflow of the django-ws docs, as JSON (shared with ws-workflow.test.ts). */
export const conference = {
  name: 'Organizing conference',
  roles: ['Organization', 'Accounting'],
  nodes: [
    { name: 'Send the Call for Papers', start: true, split: 'AND', role: 'Organization', task: 'mailing' },
    { name: 'Search a location', start: true, role: 'Organization', task: 'record', requires: ['location'] },
    { name: 'Collect papers', join: 'AND', split: 'AND', role: 'Accounting', task: 'record', requires: ['papers'] },
    { name: 'Publicize', join: 'AND', split: 'AND', role: 'Accounting', task: 'record' },
    { name: 'Mailing', task: 'publish' },
    { name: 'Newspapers', task: 'publish' },
    { name: 'Poster', task: 'publish' },
    { name: 'Receive subscriptions', join: 'XOR', role: 'Accounting', task: 'subscriptions', requires: ['subscriptions'] },
    // A task with a result: a task with an empty result follows only unconditional transitions (the reference's rule).
    { name: 'Wait until the starting day', split: 'XOR', task: 'countdown' },
    { name: 'Start the conference', end: true, task: 'record' },
  ],
  transitions: [
    { from: 'Send the Call for Papers', to: 'Collect papers' },
    { from: 'Collect papers', to: 'Publicize' },
    { from: 'Search a location', to: 'Publicize' },
    { from: 'Publicize', to: 'Mailing' },
    { from: 'Publicize', to: 'Newspapers' },
    { from: 'Publicize', to: 'Poster' },
    { from: 'Mailing', to: 'Receive subscriptions' },
    { from: 'Newspapers', to: 'Receive subscriptions' },
    { from: 'Poster', to: 'Receive subscriptions' },
    { from: 'Receive subscriptions', to: 'Wait until the starting day' },
    { from: 'Wait until the starting day', to: 'Start the conference', condition: 'startingDay' },
    { from: 'Wait until the starting day', to: 'Receive subscriptions' },
  ],
};

/** The conference workflow's task code and conditions; `log` collects what the tasks did. */
export function conferenceCode(log: string[]) {
  return {
    tasks: {
      mailing: () => {
        log.push('call for papers sent');
      },
      record: (params: Record<string, unknown>) => {
        log.push(`recorded ${JSON.stringify(params)}`);
      },
      publish: (_params: Record<string, unknown>, data: Record<string, unknown>) => {
        data.channels = ((data.channels as number) ?? 0) + 1;
      },
      subscriptions: (params: Record<string, unknown>, data: Record<string, unknown>) => {
        data.total = ((data.total as number) ?? 0) + (params.subscriptions as number);
        data.startingDay = params.startingDay === true;
        return data.total as number;
      },
      countdown: (_params: Record<string, unknown>, data: Record<string, unknown>) => (data.startingDay === true ? 'starting day' : 'not yet'),
    },
    conditions: { startingDay: (_result: unknown, data: Record<string, unknown>) => data.startingDay === true },
  };
}

/** The conference workflow compiled for the runner; `log` collects what the tasks did. */
export function conferenceAutomation(log: string[]) {
  return loadWsAutomation(conference, conferenceCode(log));
}

const accountant = { id: 'acc', groups: ['Accounting'] };
const organiser = { id: 'org', groups: ['Organization'] };

/**
 * Runs the conference example through `createAutomationRunner` on `storage` (fresh for each
 * call) with the same expectations as the pure ws test; `reopen` gives a second runner on the
 * same storage, to show that nothing lives in memory between steps.
 */
export async function runConferenceOnRunner(storage: AutomationStorage, reopen: () => Promise<AutomationStorage>): Promise<void> {
  const log: string[] = [];
  const clock = new ManualClock(T0);
  const runner = createAutomationRunner({ storage, clock, automations: [conferenceAutomation(log)] });
  const created = await runner.create('Organizing conference');
  const pending = async (r = runner) => (await r.openForms()).filter((f) => f.instanceId === created.id).map((f) => f.node);
  const taskOf = async (node: string, r = runner) => (await r.openForms()).find((f) => f.instanceId === created.id && f.node === node)?.taskId as number;

  // Both start nodes fired; the location search waits for a human of role Organization.
  expect(log).toEqual(['call for papers sent']);
  expect(await pending()).toEqual(['Search a location', 'Collect papers']);
  expect((await runner.openForms(accountant)).map((f) => f.node)).toEqual(['Collect papers']);
  expect(created.dueAt).toBeNull();

  await expect(runner.submitForm(created.id, { taskId: await taskOf('Collect papers') }, organiser, { papers: 12 })).rejects.toBeInstanceOf(FormPermissionError);
  await expect(runner.submitForm(created.id, { taskId: await taskOf('Collect papers') }, accountant, { pages: 12 })).rejects.toBeInstanceOf(FormValidationError);
  await runner.submitForm(created.id, { taskId: await taskOf('Collect papers') }, accountant, { papers: 12 });
  // Publicize has an AND join: it waits for the location too.
  expect((await runner.history(created.id)).some((row) => row.status === 'Publicize')).toBe(false);

  const second = createAutomationRunner({ storage: await reopen(), clock, automations: [conferenceAutomation(log)] });
  await second.submitForm(created.id, { node: 'Search a location' }, organiser, { location: 'Bilbao' });
  const rows = await second.history(created.id);
  expect(rows.filter((row) => row.status === 'Publicize').map((row) => row.message)).toEqual(['OK']);
  expect((await second.get(created.id)).data.channels).toBe(3);
  // Receive subscriptions has a XOR join: the first channel fires it, the other arrivals do not fire it again.
  expect(rows.filter((row) => row.status === 'Receive subscriptions')).toHaveLength(1);
  expect(await pending(second)).toEqual(['Receive subscriptions']);
  expect(rows.find((row) => row.status === 'Collect papers')).toMatchObject({ message: 'OK', completedBy: 'acc' });

  await second.submitForm(created.id, { taskId: await taskOf('Receive subscriptions', second) }, accountant, { subscriptions: 40 });
  expect(await pending(second)).toEqual(['Receive subscriptions']);
  const done: InstanceRecord = await second.submitForm(
    created.id,
    { taskId: await taskOf('Receive subscriptions', second) },
    { id: 'root', superuser: true },
    { subscriptions: 25, startingDay: true },
  );
  expect(done.finished).toBe(true);
  expect(done.data.total).toBe(65);
  expect(done.dueAt).toBeNull();
  const history = await second.history(created.id);
  expect(history.at(-1)).toMatchObject({ status: 'Start the conference', message: 'OK' });
  expect(history.map((row) => row.taskId)).toEqual(history.map((_row, i) => i + 1));
  expect(history.every((row) => row.finished !== null)).toBe(true);
}

/** A review workflow whose `review` node splits with `split`: always to notify, and to publish or archive by the verdict. */
export const review = (split: 'AND' | 'XOR') => ({
  name: `Review ${split}`,
  nodes: [
    { name: 'review', start: true, split, task: 'decide' },
    { name: 'publish', end: true },
    { name: 'notify' },
    { name: 'archive', end: true },
  ],
  transitions: [
    { from: 'review', to: 'notify', condition: 'always' },
    { from: 'review', to: 'publish', condition: { resultEquals: 'approve' } },
    { from: 'review', to: 'archive', condition: { resultEquals: 'reject' } },
  ],
});

/** The review workflow's task (the verdict in the data is its result) and its `always` condition. */
export const reviewCode = { tasks: { decide: (params: Record<string, unknown>) => params.verdict }, conditions: { always: () => true } };

/**
 * Tasks with empty results (the reference's rule): `b` and `c` return nothing, so they follow
 * only their unconditional transitions, yet `b` still counts as arrived for its conditional
 * transition into the AND join.
 */
export const emptyResults = {
  name: 'EmptyResults',
  nodes: [
    { name: 'a', start: true, task: 'yes' },
    { name: 'b', start: true },
    { name: 'c', start: true },
    { name: 'joined', join: 'AND' as const },
    { name: 'never' },
    { name: 'always' },
  ],
  transitions: [
    { from: 'a', to: 'joined', condition: { resultEquals: 'yes' } },
    { from: 'b', to: 'joined', condition: { resultEquals: 'yes' } },
    { from: 'c', to: 'never', condition: 'anything' },
    { from: 'c', to: 'always' },
  ],
};
export const emptyResultsCode = { tasks: { yes: () => 'yes' }, conditions: { anything: () => true } };
