import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertWritable, parseTaskRecord, taskRecordProblems } from '../../src/persist/index.ts';
import { z } from 'zod';
import { isTaskId } from '../../src/core/ids.ts';
import { makeRecord } from './contract.ts';

/** Every path into the record of `makeRecord`, with `[]` for the record itself. */
function pathsOf(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [path];
  const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return [path, ...keys.flatMap((key) => pathsOf((value as Record<string | number, unknown>)[key], [...path, key]))];
}

/** `record` with the value at `path` replaced (or, for `undefined`, removed). */
function withValue(record: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(record) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (value === undefined) delete parent[last];
  else parent[last] = value;
  return copy;
}

/** A model of a stored record's shape written with zod, for the property test below (the code checks records by hand). */
const object = z.custom<Record<string, unknown>>((value) => value !== null && typeof value === 'object' && !Array.isArray(value));
const recordModel = z.object({
  id: z.string().refine(isTaskId),
  flowId: z.string().min(1),
  flowVersion: z.number().int().positive(),
  version: z.number().int().positive(),
  data: object,
  snapshot: z.object({
    value: z.union([z.string(), object]),
    context: z
      .object({
        user: z.looseObject({ id: z.string() }).nullable(),
        trail: z.array(z.object({ step: z.string(), visit: z.number().int(), data: object })),
        at: z.number().int().min(-1),
        inputs: object,
        visits: z.record(z.string(), z.number().int()),
        until: z.number().finite().nullable(),
        reason: z.string().nullable(),
      })
      .refine((context) => context.at < context.trail.length),
  }),
  history: z.array(
    z.object({
      at: z.number().finite(),
      event: z.string(),
      from: z.string().nullable(),
      to: z.string(),
      actor: z.string().nullable(),
      outcome: z.string().optional(),
      fields: z.array(z.string()).optional(),
    }),
  ),
  binder: z.string(),
  createdAt: z.number().finite(),
  lastActiveAt: z.number().finite(),
  expiresAt: z.number().finite(),
});

// A refused submission's entry names the refused fields; entries written before they did have no `fields`.
const valid = makeRecord({
  history: [
    { at: 1, event: 'start', from: null, to: 'step', actor: null, outcome: 'continue' },
    { at: 2, event: 'refused', from: 'step', to: 'step', actor: null, fields: ['email'] },
  ],
});
const values = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(undefined, Number.NaN, Number.POSITIVE_INFINITY, -1, 0, 1.5, 2 ** 60, '', [], {}, 'AAAAAAAAAAAAAAAAAAAAAB'),
);

describe('taskRecordProblems', () => {
  it('accepts a valid record', () => {
    expect(taskRecordProblems(valid)).toEqual([]);
    expect(parseTaskRecord(valid, valid.id)).toBe(valid);
  });

  it('agrees with a zod model of the record on any record with one field changed', () => {
    fc.assert(
      fc.property(fc.constantFrom(...pathsOf(valid)), values, (path, value) => {
        const changed = withValue(valid, path, value);
        expect(taskRecordProblems(changed).length === 0).toBe(recordModel.safeParse(changed).success);
      }),
      { numRuns: 2000 },
    );
  });

  it('names the field it finds wrong: the one changed, or the field holding it, or one inside it', () => {
    // The checks share one array of keys down the record: a key left on it would name a field off that line in every later problem.
    fc.assert(
      fc.property(fc.constantFrom(...pathsOf(valid).filter((path) => path.length > 0)), values, (path, value) => {
        const changed = `${path.join('.')}.`;
        for (const problem of taskRecordProblems(withValue(valid, path, value))) {
          const named = `${problem.split(': ')[0]}.`;
          if (!problem.startsWith('snapshot.context.at: points past')) expect(changed.startsWith(named) || named.startsWith(changed)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('names the path, what was expected and what was found, without the value', () => {
    const problems = taskRecordProblems(withValue(withValue(valid, ['snapshot', 'context', 'trail', 0, 'visit'], 'secret'), ['history'], 'none'));
    expect(problems).toEqual(['snapshot.context.trail.0.visit: expected an integer, got string', 'history: expected an array, got string']);
    expect(taskRecordProblems(null)).toEqual(['record: expected an object, got null']);
    expect(taskRecordProblems(withValue(valid, ['snapshot', 'context', 'at'], 1))).toEqual(['snapshot.context.at: points past the end of the trail']);
  });

  it('reports at most three problems, however long the history', () => {
    const history = Array.from({ length: 1000 }, () => ({ at: 'then' }));
    expect(taskRecordProblems({ ...valid, history })).toHaveLength(3);
  });

  it('throws CorruptRecordError on read, naming the task, the flow and the problems', () => {
    expect(() => parseTaskRecord(withValue(valid, ['flowVersion'], 0), valid.id)).toThrow(
      /Task AAAAAAAAAAAAAAAAAAAAAA of flow "flow" has a corrupted stored record \(flowVersion: expected a positive integer, got number\)/,
    );
    expect(() => parseTaskRecord(valid, 'BBBBBBBBBBBBBBBBBBBBBB')).toThrow(/stored under BBBBBBBBBBBBBBBBBBBBBB but says it is AAAAAAAAAAAAAAAAAAAAAA/);
  });
});

describe('assertWritable', () => {
  it('checks the fields a store keys, binds, versions and expires by on every write', () => {
    expect(() => assertWritable(withValue(valid, ['expiresAt'], 'later') as typeof valid)).toThrow(expect.objectContaining({ code: 'invalid-record' }));
    expect(() => assertWritable(withValue(valid, ['binder'], '') as typeof valid)).toThrow(expect.objectContaining({ code: 'empty-binder' }));
  });

  it('leaves the snapshot and history the Task built to the read, unless asked to check deep (a migration’s output)', () => {
    const damaged = withValue(valid, ['snapshot', 'context', 'trail'], 'garbled') as typeof valid;
    expect(() => assertWritable(damaged)).not.toThrow();
    expect(() => assertWritable(damaged, true)).toThrow(/snapshot\.context\.trail: expected an array, got string/);
  });
});
