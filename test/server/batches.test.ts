import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BatchOptions, batched } from '../../src/server/batches.ts';

interface Call {
  key: string;
  value: number;
  size?: number;
  bad?: boolean;
}

/** A batcher whose sends are recorded and answered when `release` is called (so calls can pile up meanwhile). */
function recorder(overrides: Partial<BatchOptions<Call, number>> = {}) {
  const sends: { kind: 'single' | 'several'; values: number[] }[] = [];
  const gates: (() => void)[] = [];
  const gate = () => new Promise<void>((resolve) => gates.push(resolve));
  const send = batched<Call, number>({
    async single(call) {
      sends.push({ kind: 'single', values: [call.value] });
      await gate();
      if (call.bad) throw new Error(`bad ${call.value}`);
      return call.value * 10;
    },
    async several(calls) {
      sends.push({ kind: 'several', values: calls.map((call) => call.value) });
      await gate();
      if (calls.some((call) => call.bad)) throw new Error('a bad call in the batch');
      return calls.map((call) => call.value * 10);
    },
    key: (call) => call.key,
    size: (call) => call.size ?? 1,
    maxSize: 100,
    failsAll: () => false,
    ...overrides,
  });
  /** Answers the sends in flight, one at a time, until nothing is left. */
  const release = async () => {
    for (let turns = 0; turns < 1000; turns++) {
      await new Promise((resolve) => setImmediate(resolve));
      const next = gates.shift();
      if (!next) return;
      next();
    }
  };
  return { send, sends, release };
}

describe('batched', () => {
  it('sends a call at once and alone when nothing is in flight', async () => {
    const { send, sends, release } = recorder();
    const result = send({ key: 'a', value: 1 });
    expect(sends).toEqual([{ kind: 'single', values: [1] }]);
    await release();
    await expect(result).resolves.toBe(10);
  });

  it('sends the calls made while one is in flight together, in the order they were made', async () => {
    const { send, sends, release } = recorder();
    const results = [1, 2, 3, 4].map((value) => send({ key: `k${value}`, value }));
    await release();
    expect(await Promise.all(results)).toEqual([10, 20, 30, 40]);
    expect(sends).toEqual([
      { kind: 'single', values: [1] },
      { kind: 'several', values: [2, 3, 4] },
    ]);
  });

  it('never puts two calls with the same key in one batch: the later one goes in the next', async () => {
    const { send, sends, release } = recorder();
    const results = [
      send({ key: 'first', value: 1 }),
      send({ key: 'a', value: 2 }),
      send({ key: 'b', value: 3 }),
      send({ key: 'a', value: 4 }),
      send({ key: 'c', value: 5 }),
    ];
    await release();
    expect(await Promise.all(results)).toEqual([10, 20, 30, 40, 50]);
    expect(sends.map((s) => s.values)).toEqual([[1], [2, 3, 5], [4]]);
  });

  it('fills a batch up to its size, and sends a call larger than that alone', async () => {
    const { send, sends, release } = recorder();
    const results = [
      send({ key: 'first', value: 1 }),
      send({ key: 'a', value: 2, size: 60 }),
      send({ key: 'b', value: 3, size: 60 }),
      send({ key: 'c', value: 4, size: 30 }),
      send({ key: 'd', value: 5, size: 500 }),
    ];
    await release();
    expect(await Promise.all(results)).toEqual([10, 20, 30, 40, 50]);
    expect(sends.map((s) => s.values)).toEqual([[1], [2, 4], [3], [5]]);
  });

  it('sends the calls of a failed batch again one by one, so only the bad one fails', async () => {
    const { send, sends, release } = recorder();
    const results = [send({ key: 'first', value: 1 }), send({ key: 'a', value: 2 }), send({ key: 'b', value: 3, bad: true }), send({ key: 'c', value: 4 })].map((p) =>
      p.then(
        (value) => ({ value }),
        (error: Error) => ({ error: error.message }),
      ),
    );
    await release();
    expect(await Promise.all(results)).toEqual([{ value: 10 }, { value: 20 }, { error: 'bad 3' }, { value: 40 }]);
    expect(sends.map((s) => `${s.kind} ${s.values}`)).toEqual(['single 1', 'several 2,3,4', 'single 2', 'single 3', 'single 4']);
  });

  it('fails every call of a batch with an error of the database, without sending them again', async () => {
    const gone = new Error('connection terminated');
    const { send, sends, release } = recorder({
      several: async () => {
        sends.push({ kind: 'several', values: [] });
        throw gone;
      },
      failsAll: (error) => error === gone,
    });
    const results = [send({ key: 'first', value: 1 }), send({ key: 'a', value: 2 }), send({ key: 'b', value: 3 })].map((p) => p.catch((error: Error) => error));
    await release();
    expect(await Promise.all(results)).toEqual([10, gone, gone]);
    expect(sends.map((s) => s.kind)).toEqual(['single', 'several']);
  });

  it('goes on after a failed call: the calls behind it are sent', async () => {
    const { send, release } = recorder();
    const failed = send({ key: 'a', value: 1, bad: true }).catch((error: Error) => error.message);
    const next = send({ key: 'b', value: 2 });
    await release();
    expect(await failed).toBe('bad 1');
    expect(await next).toBe(20);
    const later = send({ key: 'c', value: 3 });
    await release();
    expect(await later).toBe(30);
  });

  it('fails only its call when the send of one call throws before it returns a promise', async () => {
    const send = batched<Call, number>({
      single: (call) => {
        if (call.bad) throw new Error(`thrown at once ${call.value}`);
        return Promise.resolve(call.value * 10);
      },
      several: async (calls) => calls.map((call) => call.value * 10),
      key: (call) => call.key,
      size: () => 1,
      maxSize: 100,
      failsAll: () => false,
    });
    await expect(send({ key: 'a', value: 1, bad: true })).rejects.toThrow('thrown at once 1');
    await expect(send({ key: 'b', value: 2 })).resolves.toBe(20);
  });

  it('answers every call as if sent alone, whatever the batches (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd', 'e'), size: fc.integer({ min: 1, max: 120 }), bad: fc.boolean(), gap: fc.boolean() }), {
          maxLength: 30,
        }),
        async (plan) => {
          const { send, sends, release } = recorder();
          const results: Promise<unknown>[] = [];
          let releasing: Promise<void> = Promise.resolve();
          for (const [value, { key, size, bad, gap }] of plan.entries()) {
            results.push(send({ key, value, size, bad }).then((v) => v, (error: Error) => error.message));
            // Some calls come after the sends in flight were answered, others pile up behind them.
            if (gap) releasing = releasing.then(release);
          }
          await releasing;
          await release();
          expect(await Promise.all(results)).toEqual(plan.map(({ bad }, value) => (bad ? `bad ${value}` : value * 10)));
          for (const { kind, values } of sends) {
            if (kind === 'single') continue;
            const calls = values.map((value) => plan[value]!);
            expect(new Set(calls.map((call) => call.key)).size, 'no key twice in a batch').toBe(calls.length);
            expect(calls.reduce((sum, call) => sum + call.size, 0), 'within the size').toBeLessThanOrEqual(100);
            expect([...values].sort((a, b) => a - b), 'in the order made').toEqual(values);
          }
          const firstSends = new Map<number, number>();
          sends.forEach(({ values }, i) => {
            for (const value of values) if (!firstSends.has(value)) firstSends.set(value, i);
          });
          for (let a = 0; a < plan.length; a++) {
            for (let b = a + 1; b < plan.length; b++) {
              if (plan[a]!.key === plan[b]!.key) expect(firstSends.get(a)!, 'a key is written in the order of its calls').toBeLessThan(firstSends.get(b)!);
            }
          }
        },
      ),
      { numRuns: 80 },
    );
  });
});
