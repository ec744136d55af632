import fc from 'fast-check';
import { expect, it } from 'vitest';
import { VersionConflictError } from '../../src/core/errors.ts';
import type { StateStore, TaskRecord } from '../../src/core/store.ts';
import { makeRecord } from './contract.ts';

const IDS = ['AAAAAAAAAAAAAAAAAAAAAA', 'BBBBBBBBBBBBBBBBBBBBBB', 'CCCCCCCCCCCCCCCCCCCCCC'];
const BINDERS = ['binder-a', 'binder-b'];

type Op =
  | { kind: 'put'; id: number; binder: number; skew: number; ttl: number; item: string }
  | { kind: 'get'; id: number; binder: number }
  | { kind: 'delete'; id: number; binder: number }
  | { kind: 'list'; binder: number }
  | { kind: 'sweep' }
  | { kind: 'tick'; ms: number };

const index = (n: number) => fc.integer({ min: 0, max: n - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('put' as const),
    id: index(IDS.length),
    binder: index(BINDERS.length),
    // Mostly correct expected versions, sometimes stale or ahead: conflicts must be rejected.
    skew: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: -2, max: 2 })),
    ttl: fc.integer({ min: 1, max: 12 }),
    item: fc.string({ maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('get' as const), id: index(IDS.length), binder: index(BINDERS.length) }),
  fc.record({ kind: fc.constant('delete' as const), id: index(IDS.length), binder: index(BINDERS.length) }),
  fc.record({ kind: fc.constant('list' as const), binder: index(BINDERS.length) }),
  fc.constant({ kind: 'sweep' as const }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 6 }) }),
);

/**
 * Random sequences of puts, gets, deletes, lists, sweeps and clock ticks,
 * run against `create()` and against a plain model of the contract; every
 * answer must match the model's.
 */
export function storeProperties(name: string, create: () => Promise<StateStore> | StateStore, runs = 100) {
  it(`${name} behaves like the model under random puts, gets, conflicts and expiry`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const store = await create();
        const model = new Map<string, TaskRecord>();
        let now = 1_000_000;
        const visible = (id: string, binder: string) => {
          const record = model.get(id);
          return record && record.binder === binder && record.expiresAt > now ? record : null;
        };
        for (const step of ops) {
          if (step.kind === 'tick') {
            now += step.ms;
          } else if (step.kind === 'put') {
            const id = IDS[step.id]!;
            const binder = BINDERS[step.binder]!;
            const current = model.get(id);
            const expected = Math.max(0, (current && current.binder === binder ? current.version : 0) + step.skew);
            const record = makeRecord({ id, binder, version: expected + 1, data: { item: step.item }, lastActiveAt: now, expiresAt: now + step.ttl });
            const accepted = current ? current.binder === binder && current.version === expected : expected === 0;
            const put = store.put(record, expected);
            if (accepted) {
              await put;
              model.set(id, record);
            } else {
              await expect(put).rejects.toBeInstanceOf(VersionConflictError);
            }
          } else if (step.kind === 'get') {
            const id = IDS[step.id]!;
            const binder = BINDERS[step.binder]!;
            expect(await store.get(id, binder, now)).toEqual(visible(id, binder));
          } else if (step.kind === 'delete') {
            const id = IDS[step.id]!;
            const binder = BINDERS[step.binder]!;
            await store.delete(id, binder);
            if (model.get(id)?.binder === binder) model.delete(id);
          } else if (step.kind === 'list') {
            const binder = BINDERS[step.binder]!;
            const listed = await store.list(binder, now);
            const expected = IDS.map((id) => visible(id, binder)).filter((r) => r !== null);
            expect(new Set(listed.map((s) => s.id))).toEqual(new Set(expected.map((r) => r.id)));
            expect(listed.map((s) => s.lastActiveAt)).toEqual([...listed.map((s) => s.lastActiveAt)].sort((a, b) => b - a));
          } else {
            const expired = [...model.values()].filter((r) => r.expiresAt <= now);
            expect(await store.sweep(now)).toBe(expired.length);
            for (const record of expired) model.delete(record.id);
          }
        }
        for (const id of IDS) for (const binder of BINDERS) expect(await store.get(id, binder, now)).toEqual(visible(id, binder));
      }),
      { numRuns: runs },
    );
  });
}
