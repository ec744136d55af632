import { describe, expect, it, vi } from 'vitest';
import type { SqlClient } from '../../../src/server/sql.ts';
import type { OpenFormSummary } from '../../../src/sync/protocol.ts';
import { asSession, asUser, body, startOrder, syncTestEnv } from './helpers.ts';

const env = syncTestEnv({ app: {} });
const fetcher = env.fetcher('app');

/** Records the SQL the automations database runs while `work` runs (statements and those inside transactions). */
async function statementsDuring(work: () => Promise<unknown>): Promise<string[]> {
  const db = env.running.db;
  const seen: string[] = [];
  const record = (client: SqlClient): SqlClient => ({
    query: (text, params) => {
      seen.push(text);
      return client.query(text, params);
    },
  });
  const direct = record({ query: db.query.bind(db) });
  const transaction = db.transaction.bind(db);
  const query = vi.spyOn(db, 'query').mockImplementation(direct.query);
  const spy = vi.spyOn(db, 'transaction').mockImplementation((run) => transaction((tx) => run(record(tx))));
  try {
    await work();
  } finally {
    query.mockRestore();
    spy.mockRestore();
  }
  return seen;
}

const readsInstances = (statements: string[]) => statements.some((text) => /FROM\s+wayflow_automation_instances/i.test(text));

describe('GET /automations/forms', () => {
  it('answers a caller who may process no form without a single query, however many instances wait', async () => {
    for (let i = 0; i < 20; i++) await startOrder(asSession(fetcher));
    const anonymous = asSession(fetcher);
    let forms: OpenFormSummary[] = [];
    const statements = await statementsDuring(async () => {
      forms = (await body<{ forms: OpenFormSummary[] }>(await anonymous.get('/automations/forms'))).forms;
    });
    expect(forms).toEqual([]);
    expect(statements).toEqual([]);
  });

  it('asks the open-forms index for the nodes the caller may process, reading no instance', async () => {
    const started = [];
    for (let i = 0; i < 5; i++) started.push(await startOrder(asSession(fetcher)));
    let forms: OpenFormSummary[] = [];
    const statements = await statementsDuring(async () => {
      forms = (await body<{ forms: OpenFormSummary[] }>(await asUser(fetcher, 'bo').get('/automations/forms'))).forms;
    });
    expect(forms.map((form) => form.instanceId)).toEqual(started.map((instance) => instance.id));
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/wayflow_automation_open_forms/);
    expect(readsInstances(statements)).toBe(false);
  });
});
