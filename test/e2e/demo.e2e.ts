import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/server/log.ts';
import type { RunningServer } from '../../src/server/serve.ts';
import { buildDemo, heading, serveDemo } from './fixtures/demo.ts';
import { launchChromium } from './fixtures/persist/serve.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const shots = `${root}test-results/demo`;
let browser: Browser;
let server: RunningServer;
let dataDir: string;
const requests: LogEntry[] = [];
let context: BrowserContext;

beforeAll(async () => {
  await buildDemo();
  dataDir = await mkdtemp(join(tmpdir(), 'wayflow-demo-'));
  server = await serveDemo({ dataDir, write: (line) => requests.push(JSON.parse(line) as LogEntry) });
  browser = await launchChromium();
  context = await browser.newContext();
  await mkdir(shots, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

let shot = 0;
async function snap(page: Page, branch: string) {
  const title = (await page.getByRole('heading', { level: 1 }).textContent()) ?? 'page';
  await page.screenshot({ path: `${shots}/${branch}-${String(++shot).padStart(2, '0')}-${title.replace(/\W+/g, '-').toLowerCase()}.png`, fullPage: true });
}

/** What the pages printed to their consoles and which requests failed, shown when a step does not arrive. */
const browserLog: string[] = [];
const inFlight = new Set<string>();
function watch(page: Page, name: string) {
  page.on('console', (message) => browserLog.push(`${name} console.${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => browserLog.push(`${name} page error: ${error.message}`));
  page.on('requestfailed', (request) => browserLog.push(`${name} request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText}`));
  page.on('request', (request) => inFlight.add(`${name} ${request.method()} ${request.url()}`));
  page.on('requestfinished', (request) => inFlight.delete(`${name} ${request.method()} ${request.url()}`));
  return page;
}

/** Steps `next` saw arrive: each is a transition the server acknowledged before the page showed it. */
let transitions = 0;

async function next(page: Page, title: string, branch: string, button = 'Continue') {
  await snap(page, branch);
  await page.getByRole('button', { name: button, exact: true }).click();
  try {
    await heading(page, title);
    transitions++;
  } catch (error) {
    await page.screenshot({ path: `${shots}/${branch}-failed-waiting-for-${title.replace(/\W+/g, '-').toLowerCase()}.png`, fullPage: true });
    const served = requests.filter((r) => r.msg === 'request').slice(-12).map((r) => `${r.method} ${r.path} ${r.status} ${r.ms} ms`);
    throw new Error(`${(error as Error).message}\nlast requests served:\n${served.join('\n')}\nstill in flight:\n${[...inFlight].join('\n')}\nbrowser:\n${browserLog.slice(-20).join('\n')}`);
  }
}

const idOf = (page: Page) => new URL(page.url()).searchParams.get('_id');

describe('the demo checkout, driven like a person would', () => {
  it('completes two different branches in two tabs, with reloads, and a back-button edit', async () => {
    const a = watch(await context.newPage(), 'tab A');
    const b = watch(await context.newPage(), 'tab B');
    // Both tabs open at once on a first visit: the server issues the session cookie with the page,
    // so their first API requests share one session (they used to race and get two).
    await Promise.all([a.goto(`${server.url}/checkout`), b.goto(`${server.url}/checkout`)]);
    await heading(a, 'Do you want to buy this?');
    await heading(b, 'Do you want to buy this?');
    expect(idOf(a)).not.toBe(idOf(b));

    // Tab A: log in, pay with a new credit card.
    await a.getByLabel('Quantity').fill('2');
    await next(a, 'Tell us who you are', 'a');
    await a.getByLabel('Log in to your account').check();
    await next(a, 'Log in to your account', 'a');
    await a.getByLabel('Email').fill('ada@example.com');
    await a.waitForTimeout(700);
    await a.reload();
    await heading(a, 'Log in to your account');
    expect(await a.getByLabel('Email').inputValue()).toBe('ada@example.com');
    await a.getByLabel('Password').fill('wrong');
    await snap(a, 'a');
    await a.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => a.getByRole('alert').first().textContent()).toMatch(/do not match|Wrong email or password/);
    await a.getByLabel('Password').fill('analytical');
    await next(a, 'Choose how to pay', 'a');

    // Tab B, meanwhile: register, pay by bank account with an address.
    await b.getByLabel('Quantity').fill('1');
    await next(b, 'Tell us who you are', 'b');
    await b.getByLabel('Create an account').check();
    await next(b, 'Create an account', 'b');
    await b.getByLabel('Full name').fill('Grace Hopper');
    await b.getByLabel('Email').fill('grace@example.com');
    await b.getByLabel('Password (8 characters or more)').fill('compilers');
    await next(b, 'Choose how to pay', 'b');
    await b.reload();
    await heading(b, 'Choose how to pay');
    await b.getByLabel('Enter a new payment method').check();
    await next(b, 'Enter a new payment method', 'b');
    await b.getByLabel('Bank account').check();
    await next(b, 'Bank account details', 'b');
    await b.getByLabel('Account holder').fill('Grace Hopper');
    await b.getByLabel('IBAN').fill('DE89 3704 0044 0532 0130 00');
    await next(b, 'Account address', 'b');
    expect(new URL(b.url()).pathname).toBe('/checkout/pay/new/bank/address');
    await b.getByLabel('Street and number').fill('1 Navy Way');
    await b.getByLabel('City').fill('Arlington');
    await b.getByLabel('Postcode').fill('22201');
    await b.getByLabel('Country code (2 letters)').fill('US');
    await next(b, 'Confirm and pay', 'b');
    expect(await b.locator('.summary').textContent()).toContain('Bank account ending 3000');

    // Tab A again: card, then back with the browser to fix the card holder.
    await a.getByLabel('Enter a new payment method').check();
    await next(a, 'Enter a new payment method', 'a');
    await a.getByLabel('Credit card').check();
    await next(a, 'Credit card', 'a');
    await a.getByLabel('Name on the card').fill('A. Lovelace');
    await a.getByLabel('Card number').fill('4242 4242 4242 4242');
    await a.getByLabel('Expiry (MM/YY)').fill('12/30');
    await a.getByLabel('Security code').fill('123');
    await next(a, 'Confirm and pay', 'a');
    await a.goBack();
    await heading(a, 'Credit card');
    expect(await a.getByLabel('Name on the card').inputValue()).toBe('A. Lovelace');
    await a.getByLabel('Name on the card').fill('Ada Lovelace');
    await next(a, 'Confirm and pay', 'a');
    expect(await a.locator('.summary').textContent()).toMatch(/2 × The Wayflow Handbook.*€58\.00.*Ada Lovelace.*Card ending 4242/);
    await a.reload();
    await heading(a, 'Confirm and pay');

    // Paid: the order goes to the back office (test/e2e/fulfilment.e2e.ts follows it there).
    await next(a, 'Waiting for approval', 'a', 'Confirm and pay');
    await next(b, 'Waiting for approval', 'b', 'Confirm and pay');
    await snap(a, 'a');
    await snap(b, 'b');
    expect(await a.locator('main').textContent()).toContain('€58.00');
    expect(await b.locator('main').textContent()).toContain('€29.00');
    const puts = requests.filter((r) => r.method === 'PUT');
    expect(puts.filter((r) => r.status === 201), 'both tasks were created on the server').toHaveLength(2);
    // A draft is written only when its 400 ms delay passes before the next click, which depends on the machine's speed: count the transitions.
    expect(puts.filter((r) => r.status === 200).length, 'the transitions were committed to the server').toBeGreaterThanOrEqual(transitions);
    expect(puts.filter((r) => r.status !== 200 && r.status !== 201)).toEqual([]);
  });

  it('can be completed with the keyboard alone', async () => {
    const page = await context.newPage();
    await page.goto(`${server.url}/checkout`);
    await heading(page, 'Do you want to buy this?');
    const focused = () => page.evaluate(() => {
      const el = document.activeElement as HTMLInputElement | null;
      return (el?.labels?.[0]?.textContent ?? el?.textContent ?? '').trim();
    });
    const tabTo = async (name: string) => {
      for (let i = 0; i < 25; i++) {
        await page.keyboard.press('Tab');
        if ((await focused()) === name) {
          // A control reached by the keyboard shows its focus ring.
          expect(await page.evaluate(() => document.activeElement?.matches(':focus-visible'))).toBe(true);
          return;
        }
      }
      throw new Error(`keyboard focus never reached "${name}"`);
    };
    const continueTo = async (title: string, button = 'Continue') => {
      await tabTo(button);
      await page.keyboard.press('Enter');
      await heading(page, title);
      await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe(title);
      // The heading takes focus (where a screen reader reads on, and the next Tab starts) without a focus ring: it is no control.
      expect(await page.evaluate(() => document.activeElement?.matches(':focus-visible'))).toBe(false);
    };
    await tabTo('Quantity');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('3');
    await continueTo('Tell us who you are');
    await tabTo('Log in to your account');
    await page.keyboard.press('Space');
    await continueTo('Log in to your account');
    await tabTo('Email');
    await page.keyboard.type('ada@example.com');
    await tabTo('Password');
    await page.keyboard.type('analytical');
    await continueTo('Choose how to pay');
    await tabTo('Use a payment method you saved');
    await page.keyboard.press('Space');
    await continueTo('Use a payment method you saved');
    await continueTo('Confirm and pay');
    expect(await page.locator('.summary').textContent()).toContain('Visa ending 4242');
    await continueTo('Waiting for approval', 'Confirm and pay');
    expect(await page.locator('main').textContent()).toContain('€87.00');
  });

  it('says when changes wait on the device while the server is unreachable, and when they reach it', async () => {
    const own = await browser.newContext();
    const page = await own.newPage();
    await page.goto(`${server.url}/checkout`);
    await heading(page, 'Do you want to buy this?');
    const saveStatus = page.getByRole('status').filter({ hasText: /saved|Offline|Saving/ });
    await expect.poll(() => saveStatus.textContent()).toBe('All changes saved');
    expect(await saveStatus.getAttribute('aria-live')).toBe('polite');
    await own.setOffline(true);
    await page.getByLabel('Quantity').fill('2');
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await heading(page, 'Tell us who you are');
    await expect.poll(() => saveStatus.textContent()).toMatch(/^Offline \(\d+ waiting\)$/);
    // Back online, the browser's online event sends the waiting changes.
    await own.setOffline(false);
    await expect.poll(() => saveStatus.textContent(), { timeout: 15_000 }).toBe('All changes saved');
    await own.close();
  });

  it('lists the tasks in progress in this browser, resumes one and discards another', async () => {
    const own = await browser.newContext();
    const page = await own.newPage();
    await page.goto(`${server.url}/checkout`);
    await heading(page, 'Do you want to buy this?');
    await page.getByLabel('Quantity').fill('4');
    await next(page, 'Tell us who you are', 'tasks');
    const first = idOf(page);
    await page.goto(`${server.url}/checkout`);
    await heading(page, 'Do you want to buy this?');
    await expect.poll(() => idOf(page)).not.toBe(first);
    const second = idOf(page);
    await page.getByRole('link', { name: 'Tasks in progress' }).click();
    await heading(page, 'Tasks in progress');
    const rows = page.locator('.tasks li');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.first().textContent()).toContain('Do you want to buy this?');
    expect(await rows.nth(1).textContent()).toContain('Tell us who you are');
    await snap(page, 'tasks');
    await rows.first().getByRole('button', { name: 'Discard' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    await rows.first().getByRole('link', { name: 'Resume' }).click();
    await heading(page, 'Tell us who you are');
    expect(idOf(page)).toBe(first);
    await page.goto(`${server.url}/checkout?_id=${second}`);
    await heading(page, 'This task was not found');
    await own.close();
  });
});
