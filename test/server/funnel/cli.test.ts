import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../../src/core/store.ts';
import { runCli } from '../../../src/server/cli.ts';
import { FunnelUsageError } from '../../../src/server/funnel/cli.ts';
import { formatSpan } from '../../../src/server/funnel/text.ts';
import { DATABASE_URL, postgresHarness, type StorageHarness } from '../harness.ts';

const DAY = 86_400_000;
const now = Date.now();
let harness: StorageHarness & { schema: string };

/** A history through `steps` one minute each, refused once at `refusedAt` for `email`, ending at `end` (a step, or `$completed`). */
function history(start: number, steps: string[], end: string, refusedAt?: string): HistoryEntry[] {
  const entries: HistoryEntry[] = [{ at: start, event: 'start', from: null, to: steps[0]!, actor: null }];
  let at = start;
  for (const [i, step] of steps.entries()) {
    if (step === refusedAt) entries.push({ at: at + 1000, event: 'refused', from: step, to: step, actor: null, fields: ['email'] });
    at += 60_000;
    const to = steps[i + 1] ?? end;
    if (to !== step) entries.push({ at, event: 'submit', from: step, to, actor: null, outcome: 'complete' });
  }
  return entries;
}

beforeAll(async () => {
  harness = await postgresHarness();
  const tasks = [
    history(now - DAY, ['cart', 'address', 'pay', 'card'], '$completed', 'address'),
    history(now - DAY, ['cart', 'address', 'pay', 'paypal'], '$completed'),
    [...history(now - DAY, ['cart', 'address'], 'address', 'address'), { at: now - DAY + 62_000, event: 'back', from: 'address', to: 'cart', actor: null }],
    history(now - 30 * DAY, ['cart'], 'cart'),
  ];
  for (const [i, entries] of tasks.entries()) {
    const record = { flowId: 'checkout', flowVersion: 1, createdAt: entries[0]!.at, lastActiveAt: entries.at(-1)!.at, history: entries };
    await harness.sql(
      `INSERT INTO wayflow_tasks (owner, id, binder, version, record, summary, last_active_at, expires_at, idle_until) VALUES ('o', $1, 'b', 1, $2, $3, 0, 0, 0)`,
      [`task-${i}`, JSON.stringify(record), JSON.stringify({ flowId: 'checkout', step: null })],
    );
  }
}, 60_000);
afterAll(() => harness.close());

const funnel = async (...args: string[]) => {
  const lines: string[] = [];
  expect(await runCli(['funnel', ...args, '--schema', harness.schema], { DATABASE_URL }, (line) => lines.push(line))).toBeNull();
  return lines.join('\n');
};

describe('wayflow funnel', () => {
  it('prints the funnel of a flow as a table: steps in flow order, branches indented, refusals by field, moves back', async () => {
    const text = await funnel('checkout', '--since', '7d');
    expect(text).toContain('Funnel of flow "checkout" version 1');
    expect(text).toContain('3 started, 2 completed (66.7%), 0 aborted, 1 abandoned, 0 in progress');
    const rows = text.split('\n').filter((line) => /^\s*(↳ )?(cart|address|pay|card|paypal)\s/.test(line.replace(/^\s+/, '')));
    expect(rows.map((row) => row.trim().split(/\s{2,}/).slice(0, 5))).toEqual([
      ['cart', '3', '100.0%', '1', '0'],
      ['address', '3', '100.0%', '0', '0'],
      ['pay', '2', '66.7%', '0', '0'],
      ['↳ card', '1', '33.3%', '0', '0'],
      ['↳ paypal', '1', '33.3%', '0', '0'],
    ]);
    expect(rows[1]).toMatch(/1\.0 min\s+1\.0 min\s+2\s+email 2$/);
    expect(text).toMatch(/\nBack and go-to moves: address → cart 1$/);
    expect(JSON.parse(await funnel('checkout', '--since', '60d', '--json')).funnels[0]).toMatchObject({ started: 4, abandoned: 2 });
  });

  it('says when no task was created in the window, and explains bad arguments with the usage', async () => {
    expect(await funnel('checkout', '--since', '1h')).toMatch(/^No task of flow "checkout" was created in the window/);
    const usage = (args: string[]) => runCli(['funnel', ...args], { DATABASE_URL }, () => undefined);
    await expect(usage([])).rejects.toBeInstanceOf(FunnelUsageError);
    await expect(usage(['checkout', '--since', 'last week'])).rejects.toThrow(/"last week" is not a time/);
    await expect(usage(['checkout', '--colour'])).rejects.toThrow(/Usage: wayflow funnel/);
  });

  it('writes time spans for people', () => {
    expect([null, 850, 12_500, 252_000, 5_400_000].map(formatSpan)).toEqual(['-', '850 ms', '12.5 s', '4.2 min', '1.5 h']);
  });
});
