import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/serve.ts';
import type { InstanceStatus, OpenFormSummary } from '../../src/sync/protocol.ts';
import { buildDemo, heading, serveDemo } from './fixtures/demo.ts';
import { launchChromium } from './fixtures/persist/serve.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const shots = `${root}test-results/process-map`;
let browser: Browser;
let server: RunningServer;
let dataDir: string;
let shopper: BrowserContext;
let backOffice: BrowserContext;

beforeAll(async () => {
  await buildDemo();
  dataDir = await mkdtemp(join(tmpdir(), 'wayflow-process-map-'));
  server = await serveDemo({ dataDir, port: 0, logLevel: 'error' });
  browser = await launchChromium();
  shopper = await browser.newContext();
  backOffice = await browser.newContext();
  await backOffice.addCookies([{ name: 'wayflow_demo_user', value: 'backoffice', url: server.url }]);
  await mkdir(shots, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** The figures of a step in the map's table: [waiting, passed, errors]. */
const row = async (page: Page, step: string) => {
  const cells = page.getByRole('table', { name: 'Order fulfilment' }).getByRole('row').filter({ hasText: step }).getByRole('cell');
  return (await cells.allTextContents()).map(Number);
};

/** A paid order started the way the checkout starts it. */
async function placeOrder(): Promise<InstanceStatus> {
  const response = await shopper.request.post(`${server.url}/automations/start/OrderFulfilment`, {
    data: { input: { orderId: `order-${crypto.randomUUID()}`, amountCents: 2900, item: { name: 'The Wayflow Handbook', quantity: 1 } } },
    headers: { origin: server.url, 'idempotency-key': crypto.randomUUID() },
  });
  expect(response.status()).toBe(201);
  return ((await response.json()) as { instance: InstanceStatus }).instance;
}

describe('the back office’s live map of order fulfilment', () => {
  it('draws the automation, its counts change as orders move without a reload, and a step lists its orders', async ({ annotate }) => {
    const office = await backOffice.newPage();
    await office.goto(`${server.url}/backoffice/map`);
    await heading(office, 'Order fulfilment, live');
    const picture = office.getByRole('img', { name: 'Order fulfilment' });
    await picture.waitFor();
    // The If's branches are drawn as labelled edges.
    expect(await picture.locator('.wayflow-map-edge text').allTextContents()).toEqual(expect.arrayContaining(['then', 'else']));
    await expect.poll(() => row(office, 'Approve the order')).toEqual([0, 0, 0]);

    // A shopper pays: the order waits for approval, and the open map shows it by itself.
    const order = await placeOrder();
    await expect.poll(() => row(office, 'Approve the order'), { timeout: 10_000 }).toEqual([1, 0, 0]);
    expect(await row(office, 'Order received')).toEqual([0, 1, 0]);

    await office.getByRole('button', { name: 'Approve the order: 1 waiting, 0 passed, 0 errors' }).click();
    const list = office.getByRole('list', { name: 'Instances: approve' });
    await expect.poll(() => list.textContent()).toContain(order.id);
    const waitingShot = `${shots}/01-map-waiting.png`;
    await office.screenshot({ path: waitingShot, fullPage: true });
    await annotate('the live map with an order waiting for approval', { path: waitingShot, contentType: 'image/png' });

    // The back office approves it: the order moves on to shipping and the end, live.
    const forms = ((await (await backOffice.request.get(`${server.url}/automations/forms`)).json()) as { forms: OpenFormSummary[] }).forms;
    const form = forms.find((f) => f.instanceId === order.id)!;
    const approved = await backOffice.request.post(`${server.url}/automations/forms/${order.id}/${form.taskId}`, {
      data: { input: { decision: 'approve', note: 'Packed with care' } },
      headers: { origin: server.url },
    });
    expect(approved.status()).toBe(200);
    await expect.poll(() => row(office, 'Approve the order'), { timeout: 10_000 }).toEqual([0, 1, 0]);
    await expect.poll(() => row(office, 'Hand over to shipping'), { timeout: 10_000 }).toEqual([0, 1, 0]);
    await expect.poll(() => list.textContent()).not.toContain(order.id);
    const passedShot = `${shots}/02-map-approved.png`;
    await office.screenshot({ path: passedShot, fullPage: true });
    await annotate('the live map after the approval', { path: passedShot, contentType: 'image/png' });
  });

  it('is refused to a shopper, in plain words', async () => {
    const page = await shopper.newPage();
    await page.goto(`${server.url}/backoffice/map`);
    await heading(page, 'Order fulfilment, live');
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/automations\.view/);
  });
});
