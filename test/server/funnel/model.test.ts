import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../../src/core/store.ts';
import { funnelsOf, percentileDisc } from '../../../src/server/funnel/model.ts';

/** A task that went through `path` (a step a second), finished with `end` (`$completed`) or left at its last step. */
function walk(path: string[], end?: string): HistoryEntry[] {
  const entries: HistoryEntry[] = [{ at: 0, event: 'start', from: null, to: path[0]!, actor: null }];
  for (const [i, step] of path.entries()) {
    const to = path[i + 1] ?? end;
    if (to) entries.push({ at: (i + 1) * 1000, event: 'submit', from: step, to, actor: null });
  }
  return entries;
}

describe('the order of a funnel’s steps', () => {
  it('puts every step after the steps leading to it and draws each branch whole, indented under the choice', () => {
    const paths = [
      ...Array.from({ length: 5 }, () => walk(['product', 'identify', 'login', 'pay', 'newMethod', 'card', 'confirm'], '$completed')),
      ...Array.from({ length: 3 }, () => walk(['product', 'identify', 'register', 'pay', 'newMethod', 'bankAccount', 'accountAddress', 'confirm'], '$completed')),
      walk(['product', 'identify', 'resetEmail', 'resetCode', 'resetPassword', 'pay', 'savedMethod', 'confirm'], '$completed'),
      walk(['product', 'identify', 'login', 'pay', 'newMethod', 'paypal']),
    ];
    const [funnel] = funnelsOf('checkout', paths.map((history) => ({ flowVersion: 1, createdAt: 0, history, ended: true })), { since: 0, until: 1 });
    expect(funnel!.steps.map((step) => `${'  '.repeat(step.depth)}${step.step}`)).toEqual([
      'product',
      'identify',
      '  login',
      '  register',
      '  resetEmail',
      '  resetCode',
      '  resetPassword',
      'pay',
      '  newMethod',
      '    card',
      '    bankAccount',
      '    accountAddress',
      '    paypal',
      '  savedMethod',
      'confirm',
    ]);
    const byStep = Object.fromEntries(funnel!.steps.map((step) => [step.step, step]));
    expect([byStep.login!.branchOf, byStep.resetCode!.branchOf, byStep.card!.branchOf, byStep.confirm!.branchOf]).toEqual(['identify', null, 'newMethod', null]);
    expect(byStep.identify!.next).toEqual([
      { from: 'identify', to: 'login', count: 6 },
      { from: 'identify', to: 'register', count: 3 },
      { from: 'identify', to: 'resetEmail', count: 1 },
    ]);
    expect(byStep.paypal).toMatchObject({ reached: 1, abandoned: 1, medianMs: null });
  });

  it('takes percentiles as PostgreSQL’s percentile_disc: the first value whose position reaches the fraction', () => {
    expect([0.5, 0.9].map((p) => percentileDisc([1], p))).toEqual([1, 1]);
    expect([0.5, 0.9].map((p) => percentileDisc([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], p))).toEqual([5, 9]);
    expect([0.5, 0.9].map((p) => percentileDisc([10, 20, 30], p))).toEqual([20, 30]);
  });
});
