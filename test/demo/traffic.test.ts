import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShoppers } from '../../demo/traffic/shoppers.ts';
import { pgliteHarness, type StorageHarness, testApp } from '../server/harness.ts';

let harness: StorageHarness;
beforeAll(async () => {
  harness = await pgliteHarness();
}, 60_000);
afterAll(() => harness.close());

describe('npm run demo:traffic', () => {
  it('drives shoppers through the checkout over the tasks API: drop-offs, refusals, moves back and both branches of the choices', async () => {
    const now = Date.now();
    const app = testApp(harness.storage);
    const report = await runShoppers({ baseUrl: 'http://wayflow.test', shoppers: 80, seed: 7, now, fetch: async (input, init) => app.fetch(new Request(input, init)) });
    expect(report.completed + report.gaveUp).toBe(80);
    const [funnel] = await harness.storage.funnels('checkout', { since: now - 8 * 86_400_000, until: now + 1 }, now);
    expect(funnel).toMatchObject({ started: 80, completed: report.completed, abandoned: report.gaveUp, inProgress: 0 });
    expect(report.completed).toBeGreaterThan(15);
    expect(report.gaveUp).toBeGreaterThan(15);
    const step = (id: string) => funnel!.steps.find((s) => s.step === id)!;
    expect(step('product').refusedFields).toEqual({ quantity: expect.any(Number) });
    expect(step('login').refusedFields).toMatchObject({ password: expect.any(Number) });
    expect(step('card').refusedFields).toMatchObject({ number: expect.any(Number) });
    expect(step('identify').next.map((move) => move.to).sort()).toEqual(['login', 'register', 'resetEmail']);
    expect(step('login').branchOf).toBe('identify');
    expect(funnel!.backMoves.map((move) => `${move.from}>${move.to}`)).toEqual(expect.arrayContaining(['confirm>pay']));
    expect(funnel!.steps.every((s) => s.medianMs !== null || s.step === 'confirm')).toBe(true);
  }, 120_000);
});
