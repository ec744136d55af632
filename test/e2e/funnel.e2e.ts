import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShoppers, type TrafficReport } from '../../demo/traffic/shoppers.ts';
import type { RunningServer } from '../../src/server/serve.ts';
import { buildDemo, heading, serveDemo } from './fixtures/demo.ts';
import { launchChromium } from './fixtures/persist/serve.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const shots = `${root}test-results/funnel`;
let browser: Browser;
let server: RunningServer;
let dataDir: string;
let traffic: TrafficReport;

beforeAll(async () => {
  await buildDemo();
  dataDir = await mkdtemp(join(tmpdir(), 'wayflow-funnel-'));
  server = await serveDemo({ dataDir, port: 0, logLevel: 'error' });
  traffic = await runShoppers({ baseUrl: server.url, shoppers: 120, seed: 16 });
  browser = await launchChromium();
  await mkdir(shots, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** The funnel's table, row by row: [step, reached, abandoned, refused…]. */
const rows = async (page: Page) => {
  const table = page.getByRole('table', { name: 'Checkout version 1' });
  await table.waitFor();
  return Promise.all((await table.getByRole('row').all()).map(async (row) => (await row.locator('th, td').allTextContents()).map((cell) => cell.trim())));
};

describe('the back office’s checkout funnel', () => {
  it('draws where the simulated shoppers went, gave up and were refused, with the figures in a table', async ({ annotate }) => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    await context.addCookies([{ name: 'wayflow_demo_user', value: 'backoffice', url: server.url }]);
    const page = await context.newPage();
    await page.goto(`${server.url}/backoffice`);
    await page.getByRole('link', { name: 'Checkout funnel' }).click();
    await heading(page, 'Checkout funnel');
    await expect
      .poll(() => page.getByRole('heading', { level: 2 }).textContent())
      .toBe(`Version 1: 120 started, ${traffic.completed} paid, ${traffic.gaveUp} gave up, 0 on their way`);
    expect(await page.getByRole('img', { name: 'Checkout version 1' }).locator('rect').count()).toBeGreaterThan(8);
    const table = await rows(page);
    expect(table[0]).toEqual(['Step', 'Reached', 'Abandoned', 'Refused', 'Median time', 'p90 time']);
    const row = (step: string) => table.find((cells) => cells[0] === step)!;
    expect(row('product')[1]).toBe('120');
    expect(row('product')[3]).toMatch(/^\d+ \(quantity \d+\)$/);
    expect(row('card')[3]).toMatch(/number \d+/);
    expect(Number(row('confirm')[1])).toBeGreaterThanOrEqual(traffic.completed);
    expect(await page.getByRole('list', { name: 'Back and go-to moves' }).textContent()).toMatch(/confirm → pay: \d+/);
    const shot = `${shots}/01-checkout-funnel.png`;
    await page.screenshot({ path: shot, fullPage: true });
    await annotate('the checkout funnel after 120 simulated shoppers', { path: shot, contentType: 'image/png' });

    // A narrower window: the figures are counted again for it.
    await page.getByLabel('Window').selectOption('24h');
    await expect.poll(() => page.getByText(/No checkout was started in this window|Version 1:/).first().textContent()).toBeTruthy();
    await context.close();
  });

  it('tells a shopper to sign in as the back office, and the API answers a stranger 404', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/backoffice/funnel`);
    await heading(page, 'Checkout funnel');
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('Sign in as the back office to see the checkout funnel.');
    expect((await context.request.get(`${server.url}/funnels/checkout`)).status()).toBe(404);
    await context.close();
  });
});
