import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createAutomationRunner, defineAutomation, flow, ManualClock, MemoryAutomationStorage } from '../../../src/automations/index.ts';
import type { SqlAutomationStorage } from '../../../src/server/automations/index.ts';
import { instanceReader } from '../../../src/server/sync/instances.ts';

const quiet = defineAutomation('Quiet', { nodes: { note: flow.execute(() => 'noted'), approve: flow.form(z.object({ ok: z.boolean() })), end: flow.end() } });
const chatty = defineAutomation('Chatty', {
  nodes: { tell: flow.sendMessage({ automation: 'Chatty' }, 'hello'), approve: flow.form(z.object({ ok: z.boolean() })), end: flow.end() },
  receivers: { hello: () => undefined },
});

/** A reader over in-memory storage that counts the transactions it opens. */
function reader() {
  const storage = new MemoryAutomationStorage();
  const opened = { transactions: 0 };
  const counting = {
    transaction: (work: Parameters<MemoryAutomationStorage['transaction']>[0]) => {
      opened.transactions += 1;
      return storage.transaction(work);
    },
  } as unknown as SqlAutomationStorage;
  const runner = createAutomationRunner({ storage, clock: new ManualClock(1_800_000_000_000), automations: [quiet, chatty] });
  return { runner, opened, read: instanceReader({ definitions: [quiet, chatty], storage: counting }, {}) };
}

describe('the status of a record a route just wrote', () => {
  it('reads no history for an automation without SendMessage nodes: nothing in it can be a browser message', async () => {
    const { runner, opened, read } = reader();
    const record = await runner.create(quiet, {});
    const status = await read.statusOfRecord(record);
    expect(opened.transactions).toBe(0);
    expect(status).toMatchObject({ status: 'running', nodes: ['approve'], messages: [] });
  });

  it('reads the history of an automation with SendMessage nodes, for the messages the browser may be sent', async () => {
    const { runner, opened, read } = reader();
    const record = await runner.create(chatty, {});
    await read.statusOfRecord(record);
    expect(opened.transactions).toBe(1);
  });
});
