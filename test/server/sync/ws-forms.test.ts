import { describe, expect, it } from 'vitest';
import { automationGraph } from '../../../src/automations/index.ts';
import type { InstanceStatus, OpenFormDetail, OpenFormSummary, ProcessMapView } from '../../../src/sync/protocol.ts';
import { conferenceAutomation } from '../../automations/ws-scenarios.ts';
import { asUser, body, definitions, errorOf, syncTestEnv } from './helpers.ts';

// django-ws human tasks (nodes that require input, for a role) are Form nodes: the browser's task list shows them to the role.
const log: string[] = [];
const conference = conferenceAutomation(log);
const env = syncTestEnv({ app: {} }, [...definitions, conference]);
const fetcher = env.fetcher('app');
const formsOf = async (user: string) => (await body<{ forms: OpenFormSummary[] }>(await asUser(fetcher, user).get('/automations/forms'))).forms;

describe('django-ws human tasks in the browser', () => {
  it('lists each open human task to its role, refuses other roles, validates the required parameters and advances the process', async () => {
    log.length = 0;
    const created = await env.running.runner.create(conference.name);
    expect(log).toEqual(['call for papers sent']);

    const accounting = await formsOf('accountant');
    expect(accounting).toEqual([
      expect.objectContaining({ instanceId: created.id, node: 'Collect papers', description: 'Collect papers (requires papers)', automation: 'Organizing conference', hoursWaiting: 0 }),
    ]);
    expect((await formsOf('organiser')).map((f) => f.node)).toEqual(['Search a location']);
    expect(await formsOf('bo')).toEqual([]);

    const path = `/automations/forms/${created.id}/${accounting[0]!.taskId}`;
    const detail = await asUser(fetcher, 'accountant').get(path);
    expect((await body<{ form: OpenFormDetail }>(detail)).form).toMatchObject({ node: 'Collect papers', automation: 'Organizing conference', data: {}, missing: ['papers'] });
    const before = { record: await env.running.runner.get(created.id), history: await env.running.runner.history(created.id) };

    const wrongRole = await asUser(fetcher, 'organiser').post(path, { input: { papers: 12 } });
    expect(wrongRole.status).toBe(403);
    expect((await errorOf(wrongRole)).error).toMatchObject({
      code: 'form-forbidden',
      message: expect.stringMatching(/"Organizing conference".*"Collect papers".*group "Accounting"/),
    });
    const missing = await asUser(fetcher, 'accountant').post(path, { input: { pages: 12 } });
    expect(missing.status).toBe(422);
    expect(Object.keys((await errorOf(missing)).error.fields ?? {})).toEqual(['papers']);
    expect(await env.running.runner.get(created.id)).toEqual(before.record);
    expect(await env.running.runner.history(created.id)).toEqual(before.history);

    const done = await asUser(fetcher, 'accountant').post(path, { input: { papers: 12 } });
    expect(done.status).toBe(200);
    const after = (await body<{ instance: InstanceStatus }>(done)).instance;
    expect(after.forms.map((f) => f.node)).toEqual(['Search a location']);
    expect(log).toContain('recorded {"papers":12}');
    expect((await env.running.runner.history(created.id)).find((row) => row.status === 'Collect papers')?.completedBy).toBe('accountant');
    // Publicize joins (AND) the papers and the location: nothing is left for Accounting until the location is found.
    expect(await formsOf('accountant')).toEqual([]);
  });
});

describe('the process map of a django-ws workflow', () => {
  it('draws its nodes and transitions, with the instances waiting at each human task and the nodes they passed', async () => {
    const created = await env.running.runner.create(conference.name);
    const response = await asUser(fetcher, 'root').get(`/automations/map/${encodeURIComponent(conference.name)}`);
    expect(response.status).toBe(200);
    const { map } = await body<{ map: ProcessMapView }>(response);
    expect(map.graph).toEqual(automationGraph(conference));
    const history = await env.running.runner.history(created.id);
    const passed = history.filter((row) => row.message === 'OK').map((row) => row.status);
    expect(passed.length).toBeGreaterThan(0);
    for (const node of passed) expect(map.counts[node]?.passed).toBeGreaterThanOrEqual(1);
    expect(map.counts['Collect papers']).toMatchObject({ waiting: 1, errors: 0 });
    expect(map.counts['Search a location']).toMatchObject({ waiting: 1, errors: 0 });
    const listed = await body<{ instances: { id: string; status: string }[] }>(
      await asUser(fetcher, 'root').get(`/automations/map/${encodeURIComponent(conference.name)}/nodes/${encodeURIComponent('Collect papers')}`),
    );
    expect(listed.instances).toEqual([expect.objectContaining({ id: created.id, status: 'form' })]);
  });
});
