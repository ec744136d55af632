import { describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/core/store.ts';
import { restoreTask, startTask } from '../../src/core/task.ts';
import { memoryStore } from '../../src/persist/memory.ts';
import { FlowVersionAheadError, ForeignFlowError, MigrationFailedError, migrateRecord, UnknownFlowVersionError } from '../../src/persist/migrate.ts';
import { otherFlow, signupV1, signupV2, signupV3 } from './flows.ts';

/** A version-1 record that has gone through `steps` inputs. */
async function v1RecordAfter(...inputs: unknown[]): Promise<TaskRecord> {
  const task = await startTask(signupV1, { store: memoryStore(), binder: 'b' });
  for (const input of inputs) expect(await task.submit(input)).toEqual({ ok: true });
  return task.toRecord();
}

describe('migrating records of older flow versions', () => {
  it('leaves a current record alone', async () => {
    const record = await v1RecordAfter({ name: 'Ada' });
    const result = migrateRecord(signupV1, record);
    expect(result).toEqual({ record, changed: false, relocated: null });
    expect(result.record).toBe(record);
  });

  it('runs the declared migrations version by version', async () => {
    const record = await v1RecordAfter({ name: 'Ada' });
    const { record: migrated } = migrateRecord(signupV3, record, {
      versions: {
        1: (r) => ({ ...r, data: { ...r.data, fullName: (r.data.name as { name: string }).name } }),
        2: (r) => ({ ...r, data: { ...r.data, plan: 'free' } }),
      },
    });
    expect(migrated.flowVersion).toBe(3);
    expect(migrated.data).toMatchObject({ name: { name: 'Ada' }, fullName: 'Ada', plan: 'free' });
    expect(migrated.version).toBe(record.version);
  });

  it('resumes a step that moved into a new scaffold at the same step', async () => {
    const record = await v1RecordAfter({ name: 'Ada' });
    const { record: migrated, relocated } = migrateRecord(signupV2, record, {}, 5);
    expect(relocated).toEqual({ from: 'email', to: 'email' });
    expect(migrated.snapshot.value).toEqual({ signup: { contact: { email: '$ready' } } });
    expect(migrated.history.at(-1)).toEqual({ at: 5, event: 'migrate', from: 'email', to: 'email', actor: null });
    const task = await restoreTask(signupV2, migrated, { binder: 'b' });
    expect(task.state.step?.id).toBe('email');
    expect(await task.submit({ email: 'ada@example.org' })).toEqual({ ok: true });
    expect(task.state.step?.id).toBe('confirm');
    expect(task.state.data).toMatchObject({ name: { name: 'Ada' }, email: { email: 'ada@example.org' } });
  });

  it('resumes a task whose step was removed at the nearest surviving step it visited, inputs prefilled, data kept', async () => {
    const record = await v1RecordAfter({ name: 'Ada' }, { email: 'ada@example.org' });
    expect(record.snapshot.value).toEqual({ signup: { survey: '$ready' } });
    const { record: migrated, relocated } = migrateRecord(signupV2, record);
    expect(relocated).toEqual({ from: 'survey', to: 'email' });
    const task = await restoreTask(signupV2, migrated, { binder: 'b' });
    expect(task.state.step).toMatchObject({ id: 'email', draft: { email: 'ada@example.org' } });
    expect(task.state.visited).toEqual(['name', 'email']);
    expect(task.state.data).toMatchObject({ name: { name: 'Ada' }, email: { email: 'ada@example.org' } });
    await task.back();
    expect(task.state.step?.id).toBe('name');
  });

  it('resumes a removed step where the migration says it continues (the no-op-then-next rule)', async () => {
    const record = await v1RecordAfter({ name: 'Ada' }, { email: 'ada@example.org' });
    const { record: migrated, relocated } = migrateRecord(signupV2, record, { steps: { survey: 'confirm' } });
    expect(relocated).toEqual({ from: 'survey', to: 'confirm' });
    const task = await restoreTask(signupV2, migrated, { binder: 'b' });
    expect(task.state.step?.id).toBe('confirm');
    expect(task.state.visited).toEqual(['name', 'email', 'confirm']);
    await task.submit();
    expect(task.state.status).toBe('completed');
  });

  it('follows renamed steps through several versions', async () => {
    const record = await v1RecordAfter({ name: 'Ada' }, { email: 'ada@example.org' }, {});
    expect(record.snapshot.value).toEqual({ signup: { confirm: '$ready' } });
    const { relocated } = migrateRecord(signupV3, record, { steps: { confirm: 'checkout', checkout: 'plan' } });
    expect(relocated).toEqual({ from: 'confirm', to: 'plan' });
    expect(migrateRecord(signupV3, record).relocated).toEqual({ from: 'confirm', to: 'name' });
  });

  it('starts from the first step when nothing the task visited survives', async () => {
    const record = await v1RecordAfter({ name: 'Ada' });
    const stranded: TaskRecord = { ...record, snapshot: { ...record.snapshot, value: { signup: { gone: '$ready' } }, context: { ...record.snapshot.context, trail: [], at: -1 } } };
    const { record: migrated, relocated } = migrateRecord(signupV3, stranded);
    expect(relocated).toEqual({ from: 'gone', to: 'name' });
    const task = await restoreTask(signupV3, migrated, { binder: 'b' });
    expect(task.state.step?.id).toBe('name');
    expect(task.state.data).toEqual(record.data);
  });

  it('refuses a record of another flow, and one written by a newer version', async () => {
    const record = await v1RecordAfter();
    expect(() => migrateRecord(otherFlow, record)).toThrow(ForeignFlowError);
    expect(() => migrateRecord(otherFlow, record)).toThrow(/belongs to flow "signup", not "other"/);
    const newer = { ...record, flowVersion: 9 };
    expect(() => migrateRecord(signupV2, newer)).toThrow(FlowVersionAheadError);
    expect(() => migrateRecord(signupV2, newer)).toThrow(/version 9 of flow "signup", but this page runs version 2\. Reload/);
  });

  it('refuses versions older than the oldest one it can migrate', async () => {
    const record = await v1RecordAfter();
    expect(() => migrateRecord(signupV3, record, { oldest: 2 })).toThrow(UnknownFlowVersionError);
  });

  it('reports a failing or malformed migration and leaves the record unchanged', async () => {
    const record = await v1RecordAfter({ name: 'Ada' });
    const copy = structuredClone(record);
    const throwing = () => migrateRecord(signupV2, record, { versions: { 1: () => { throw new Error('boom'); } } });
    expect(throwing).toThrow(MigrationFailedError);
    expect(throwing).toThrow(/migration of flow "signup" from version 1 to 2 failed \(boom\)/);
    expect(() => migrateRecord(signupV2, record, { versions: { 1: (r) => ({ ...r, data: 'lost' as never }) } })).toThrow(/data/);
    expect(() => migrateRecord(signupV2, record, { versions: { 1: (r) => ({ ...r, binder: 'someone-else' }) } })).toThrow(/must not change id, binder or version/);
    expect(record).toEqual(copy);
  });
});
