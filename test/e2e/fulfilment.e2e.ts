import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { automationMessages } from '../../src/react/automations/index.ts';
import type { RunningServer } from '../../src/server/serve.ts';
import type { InstanceStatus, OpenFormSummary } from '../../src/sync/protocol.ts';
import { buildDemo, heading, serveDemo } from './fixtures/demo.ts';
import { launchChromium } from './fixtures/persist/serve.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const shots = `${root}test-results/fulfilment`;
let browser: Browser;
let server: RunningServer;
let dataDir: string;
let shopper: BrowserContext;
let backOffice: BrowserContext;

beforeAll(async () => {
  await buildDemo();
  dataDir = await mkdtemp(join(tmpdir(), 'wayflow-fulfilment-'));
  server = await startServer(0);
  browser = await launchChromium();
  shopper = await browser.newContext();
  backOffice = await browser.newContext();
  await mkdir(shots, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const startServer = (port: number) => serveDemo({ dataDir, port, logLevel: 'error' });

let shot = 0;
const snap = (page: Page, name: string) => page.screenshot({ path: `${shots}/${String(++shot).padStart(2, '0')}-${name}.png`, fullPage: true });

/** Buys the handbook as Ada with her saved card, up to the page that waits for the back office. */
async function buyAndWait(page: Page) {
  await page.goto(`${server.url}/checkout`);
  await heading(page, 'Do you want to buy this?');
  await page.getByRole('button', { name: 'Continue' }).click();
  await heading(page, 'Tell us who you are');
  await page.getByLabel('Log in to your account').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await heading(page, 'Log in to your account');
  await page.getByLabel('Email').fill('ada@example.com');
  await page.getByLabel('Password').fill('analytical');
  await page.getByRole('button', { name: 'Continue' }).click();
  await heading(page, 'Choose how to pay');
  await page.getByLabel('Use a payment method you saved').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await heading(page, 'Use a payment method you saved');
  await page.getByRole('button', { name: 'Continue' }).click();
  await heading(page, 'Confirm and pay');
  await page.getByRole('button', { name: 'Confirm and pay' }).click();
  await heading(page, 'Waiting for approval');
  await expect.poll(() => page.getByTestId('fulfilment-status').textContent()).toMatch(/back office to approve/);
}

/** The open approval forms the back office sees, through its browser context's cookies. */
async function openForms(context: BrowserContext): Promise<OpenFormSummary[]> {
  const response = await context.request.get(`${server.url}/automations/forms`);
  expect(response.status()).toBe(200);
  return ((await response.json()) as { forms: OpenFormSummary[] }).forms;
}

describe('order fulfilment: a shopper and the back office in two browsers', () => {
  it('the back office approves in its task list and the shopper’s tab shows it live', async () => {
    const shop = await shopper.newPage();
    await buyAndWait(shop);
    await snap(shop, 'shopper-waiting');

    // The shopper sends the automation a message while it waits.
    await shop.getByLabel('A note for the packer (optional)').fill('Leave it at the door');
    await shop.getByRole('button', { name: 'Send note' }).click();
    await shop.getByText('The packer has your note: “Leave it at the door”.').waitFor();

    // The back office signs in (demo identity) and finds the order in its task list.
    const office = await backOffice.newPage();
    await office.goto(`${server.url}/backoffice`);
    await heading(office, 'Back office');
    await office.getByRole('button', { name: 'Sign in as the back office (demo)' }).click();
    const row = office.getByRole('row').filter({ hasText: 'Approve the order' });
    await row.waitFor();
    expect(await row.textContent()).toMatch(/Order fulfilment.*0(\.0)? h/);
    await snap(office, 'backoffice-task-list');
    await row.getByRole('button', { name: /Open/ }).click();
    await heading(office, 'Approve the order');
    expect(await office.locator('.summary').textContent()).toMatch(/1 × The Wayflow Handbook.*€29\.00.*Leave it at the door/);

    // The same schema as the automation's Form node: a rejection needs a reason.
    await office.getByRole('radio', { name: 'Reject' }).check();
    await office.getByRole('button', { name: 'Submit decision' }).click();
    await office.getByRole('alert').filter({ hasText: 'Say why the order is rejected' }).waitFor();
    expect(await office.getByLabel(/Note to the shopper/).getAttribute('aria-describedby')).toBeTruthy();
    await snap(office, 'backoffice-field-error');

    await office.getByRole('radio', { name: 'Approve' }).check();
    await office.getByLabel(/Note to the shopper/).fill('Packed with care');
    const decided = Date.now();
    await office.getByRole('button', { name: 'Submit decision' }).click();
    await heading(office, 'Decision recorded');

    // The shopper's tab was not touched: the decision arrives by itself.
    await heading(shop, 'Thank you for your order');
    const latency = Date.now() - decided;
    expect(await shop.getByRole('status').filter({ hasText: 'Approved by the back office' }).textContent()).toContain('Packed with care');
    // Pushed over SSE, well before the 5 s polling fallback would have noticed.
    expect(latency).toBeLessThan(3000);
    await snap(shop, 'shopper-approved');

    // The dashboard shows the automation by kind, and the instance's history.
    await office.goto(`${server.url}/backoffice/dashboard`);
    await heading(office, 'Automations dashboard');
    await office.getByText('Order fulfilment').first().waitFor();
    await snap(office, 'dashboard');
    await office.getByRole('button', { name: /Inspect|Open|View/ }).first().click();
    await heading(office, 'Automation instance');
    const history = office.getByRole('table', { name: 'History' });
    await expect.poll(() => history.textContent()).toMatch(/received.*approve.*backoffice.*decide.*approved.*ship/s);
    await snap(office, 'instance-history');
  });

  it('a shopper cannot act on the back office’s form: 403, and nothing changes', async () => {
    const shop = await shopper.newPage();
    await buyAndWait(shop);
    const [form] = (await openForms(backOffice)).filter((f) => f.node === 'approve');
    expect(form).toBeDefined();

    // The shopper's own task list does not offer it…
    expect((await openForms(shopper)).map((f) => f.instanceId)).not.toContain(form!.instanceId);
    // …a crafted request is refused…
    const refused = await shopper.request.post(`${server.url}/automations/forms/${form!.instanceId}/${form!.taskId}`, {
      data: { input: { decision: 'approve', note: '' } },
      headers: { origin: server.url },
    });
    expect(refused.status()).toBe(403);
    expect(((await refused.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'form-forbidden', message: expect.stringMatching(/backoffice/) });
    // …and the form page says so in plain words (the server's message names the group: for the developer).
    await shop.goto(`${server.url}/backoffice/forms/${form!.instanceId}/${form!.taskId}`);
    await expect.poll(() => shop.getByRole('alert').first().textContent()).toBe(automationMessages.formForbidden);
    await snap(shop, 'shopper-forbidden');

    // The automation still waits for the back office.
    const status = await shopper.request.get(`${server.url}/automations/instances/${form!.instanceId}`);
    expect(status.status()).toBe(200);
    const { instance } = (await status.json()) as { instance: InstanceStatus };
    expect(instance.nodes).toEqual(['approve']);
    expect(instance.forms.map((f) => f.taskId)).toEqual([form!.taskId]);
    // Someone else's browser does not see the shopper's instance at all.
    const stranger = await browser.newContext();
    expect((await stranger.request.get(`${server.url}/automations/instances/${form!.instanceId}`)).status()).toBe(404);
    await stranger.close();
  });

  it('a waiting tab catches up after the server restarts: the decision made meanwhile is not lost', async () => {
    await backOffice.addCookies([{ name: 'wayflow_demo_user', value: 'backoffice', url: server.url }]);
    const waiting = new Set((await openForms(backOffice)).map((f) => f.instanceId));
    const shop = await shopper.newPage();
    const browserLog: string[] = [];
    shop.on('console', (message) => browserLog.push(`${message.type()}: ${message.text()}`));
    shop.on('requestfailed', (request) => browserLog.push(`request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText}`));
    await buyAndWait(shop);
    const form = (await openForms(backOffice)).find((f) => !waiting.has(f.instanceId));
    expect(form).toBeDefined();
    const step = async <T>(what: string, work: Promise<T>): Promise<T> => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('still not done after 40 s')), 40_000);
      });
      try {
        return await Promise.race([work, late]);
      } catch (error) {
        throw new Error(`${what}: ${(error as Error).message}\nbrowser:\n${browserLog.slice(-30).join('\n')}`);
      } finally {
        clearTimeout(timer);
      }
    };

    // The server goes away while the shopper's tab waits on its event stream…
    const { port } = server;
    // A reconnect landing while it shuts down must not keep it open (it did: a 120 s hang).
    await step('closing the server', server.close());
    await shop.waitForTimeout(500);
    // …and comes back on the same database; the back office decides before the tab has reconnected.
    server = await startServer(port);
    const approved = await backOffice.request.post(`${server.url}/automations/forms/${form!.instanceId}/${form!.taskId}`, {
      data: { input: { decision: 'reject', note: 'Out of stock' } },
      headers: { origin: server.url },
    });
    expect(approved.status()).toBe(200);

    // The tab reconnects by itself, catches up with the status, and handles the message once.
    await step('catching up after the restart', heading(shop, 'Your order was not accepted'));
    expect(await shop.getByRole('status').filter({ hasText: 'rejected' }).textContent()).toContain('Out of stock');
    await snap(shop, 'shopper-after-restart');
    await shop.reload();
    await heading(shop, 'Your order was not accepted');
  });
});
