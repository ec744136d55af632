import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAutomationModule } from '../../../src/server/automations/definitions.ts';
import { main } from '../../../src/server/cli.ts';
import type { InstanceStatus, OpenFormSummary } from '../../../src/sync/protocol.ts';

const fixture = new URL('./fixture-module.ts', import.meta.url).pathname;
const bad = new URL('./fixture-bad-sync.ts', import.meta.url).pathname;

describe('wayflow serve --automations with sync and authenticate exports', () => {
  it('loads them from the module', async () => {
    const module = await loadAutomationModule(fixture);
    expect(module.automations.map((d) => d.name).sort()).toEqual(['SyncHidden', 'SyncOrder']);
    expect(Object.keys(module.sync?.automations ?? {})).toEqual(['SyncOrder']);
    expect(typeof module.authenticate).toBe('function');
    await expect(loadAutomationModule(bad)).rejects.toThrow(/name automation "Elsewhere", which it does not export/);
  });

  it('serves /automations with the module sync options, users recognised by its authenticate', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wayflow-sync-cli-'));
    const server = (await main(['serve', '--port', '0', '--data', dir, '--automations', fixture, '--log-level', 'error'], {}, () => undefined))!;
    let reading: Promise<string> = Promise.resolve('');
    try {
      const started = await fetch(`${server.url}/automations/start/SyncOrder`, {
        method: 'POST',
        headers: { origin: server.url, 'content-type': 'application/json', 'idempotency-key': 'cli-1' },
        body: JSON.stringify({ input: { item: 'book', qty: 1 } }),
      });
      expect(started.status).toBe(201);
      const { instance } = (await started.json()) as { instance: InstanceStatus };
      const forms = await fetch(`${server.url}/automations/forms`, { headers: { authorization: 'Bearer bo' } });
      expect(((await forms.json()) as { forms: OpenFormSummary[] }).forms.map((f) => f.instanceId)).toEqual([instance.id]);
      const dashboard = await fetch(`${server.url}/automations/dashboard`, { headers: { authorization: 'Bearer viewer' } });
      expect(dashboard.status).toBe(200);
      // The stream is open when the server stops: close() still returns.
      const events = await fetch(`${server.url}/automations/instances/${instance.id}/events`, { headers: { authorization: "Bearer viewer" } });
      expect(events.status).toBe(200);
      reading = events.text();
    } finally {
      const closing = Date.now();
      await server.close();
      expect(Date.now() - closing).toBeLessThan(2000);
      expect(await reading).toMatch(/^event: status\n/);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
