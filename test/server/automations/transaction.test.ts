import type { AsyncLocalStorage } from 'node:async_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { automationTransaction, NoAutomationTransactionError } from '../../../src/server/automations/index.ts';
import { withAutomationTransaction } from '../../../src/server/automations/transaction.ts';
import type { SqlClient } from '../../../src/server/sql.ts';

/** The storage `withAutomationTransaction` runs node functions in (kept on globalThis, so bundles share it). */
const storage = (globalThis as Record<symbol, AsyncLocalStorage<SqlClient>>)[Symbol.for('wayflow.automationTransaction')]!;
const client = (name: string): SqlClient => ({ query: async () => [{ name }] }) as unknown as SqlClient;
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

afterEach(() => vi.restoreAllMocks());

describe('withAutomationTransaction', () => {
  it('gives node functions their transaction, also after an await, and none outside', async () => {
    const seen = await withAutomationTransaction(client('a'), async () => {
      await Promise.resolve();
      return automationTransaction().query('SELECT 1');
    });
    expect(seen).toEqual([{ name: 'a' }]);
    expect(() => automationTransaction()).toThrow(NoAutomationTransactionError);
  });

  it('keeps each concurrent call on its own transaction', async () => {
    const names = await Promise.all(
      ['a', 'b', 'c'].map((name) =>
        withAutomationTransaction(client(name), async () => {
          await nextTurn();
          return ((await automationTransaction().query('SELECT 1')) as { name: string }[])[0]!.name;
        }),
      ),
    );
    expect(names).toEqual(['a', 'b', 'c']);
  });

  it("switches the promise hooks off once per turn, after the turn's last call, not after each call", async () => {
    const disable = vi.spyOn(storage, 'disable');
    // A scheduler's group: instances run one after another in the same turn.
    for (const name of ['a', 'b', 'c']) await withAutomationTransaction(client(name), async () => automationTransaction());
    expect(disable).not.toHaveBeenCalled();
    await nextTurn();
    expect(disable).toHaveBeenCalledTimes(1);
  });

  it('leaves the hooks on while a call is still running at the end of the turn', async () => {
    const disable = vi.spyOn(storage, 'disable');
    let finish!: () => void;
    const long = withAutomationTransaction(client('long'), () => new Promise<void>((resolve) => (finish = resolve)));
    await withAutomationTransaction(client('short'), async () => undefined);
    await nextTurn();
    expect(disable).not.toHaveBeenCalled();
    finish();
    await long;
    await nextTurn();
    expect(disable).toHaveBeenCalledTimes(1);
  });
});
