import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchChromium, servePage } from './fixtures/persist/serve.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/persist/${name}`, import.meta.url));

let browser: Browser;
let server: { url: string; close(): Promise<void> };
let context: BrowserContext;

beforeAll(async () => {
  server = await servePage(fixture('page.ts'), fixture('index.html'));
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});
beforeEach(async () => {
  await context?.close();
  context = await browser.newContext();
});

const app = (page: Page) => page.locator('#app');
const idOf = (url: string) => new URL(url).searchParams.get('_id');

async function opened(page: Page, status = 'ready') {
  await page.waitForSelector(`#app[data-status="${status}"]`);
}

async function submit(page: Page, value: string) {
  const version = Number(await app(page).getAttribute('data-version'));
  await page.fill('#value', value);
  await page.click('#next');
  await page.waitForSelector(`#app[data-version="${version + 1}"]`);
}

async function view(page: Page) {
  return {
    id: await app(page).getAttribute('data-task-id'),
    step: await app(page).getAttribute('data-step'),
    origin: await app(page).getAttribute('data-origin'),
    data: JSON.parse((await page.textContent('#data')) ?? 'null'),
  };
}

describe('persistence in real Chromium with real IndexedDB', () => {
  it('keeps two tabs on different tasks apart; both survive a reload', async () => {
    const [one, two] = [await context.newPage(), await context.newPage()];
    await one.goto(server.url);
    await two.goto(server.url);
    await Promise.all([opened(one), opened(two)]);
    expect(idOf(one.url())).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(idOf(two.url())).not.toBe(idOf(one.url()));
    await submit(one, 'Lisbon');
    await submit(two, 'Oslo');
    await submit(two, 'May');
    await Promise.all([one.reload(), two.reload()]);
    await Promise.all([opened(one), opened(two)]);
    expect(await view(one)).toEqual({ id: idOf(one.url()), step: 'dates', origin: 'restored', data: { destination: 'Lisbon' } });
    expect(await view(two)).toEqual({ id: idOf(two.url()), step: 'confirm', origin: 'restored', data: { destination: 'Oslo', dates: 'May' } });
  });

  it('forks a duplicated tab (same URL, same id) into a new task with a copy of the state', async () => {
    const original = await context.newPage();
    await original.goto(server.url);
    await opened(original);
    await submit(original, 'Rome');
    const duplicate = await context.newPage();
    await duplicate.goto(original.url());
    await opened(duplicate);
    const copy = await view(duplicate);
    expect(copy).toMatchObject({ origin: 'forked', step: 'dates', data: { destination: 'Rome' } });
    expect(copy.id).not.toBe(idOf(original.url()));
    expect(idOf(duplicate.url())).toBe(copy.id);
    await submit(duplicate, 'June');
    await submit(original, 'July');
    await Promise.all([original.reload(), duplicate.reload()]);
    await Promise.all([opened(original), opened(duplicate)]);
    expect((await view(original)).data).toEqual({ destination: 'Rome', dates: 'July' });
    expect((await view(duplicate)).data).toEqual({ destination: 'Rome', dates: 'June' });
    expect((await view(original)).origin).toBe('restored');
  });

  it('refuses changes to an idle task left open, shows it as expired after a reload, and starts over', async () => {
    const page = await context.newPage();
    await page.goto(`${server.url}?idle=800`);
    await opened(page);
    const expiredId = idOf(page.url());
    await page.waitForTimeout(1000);
    // Still open past the timeout: the change is refused, not saved into the expired task.
    await page.fill('#value', 'Vienna');
    await page.click('#next');
    await expect.poll(() => page.textContent('#message')).toMatch(/expired after 1 s without activity, so this change was not saved; start a new task to go on/);
    await page.reload();
    await opened(page, 'expired');
    expect(await page.textContent('#problem')).toBe('This task expired. Start over to begin a new one.');
    await page.click('#start-over');
    await opened(page);
    expect(idOf(page.url())).not.toBe(expiredId);
    expect((await view(page)).step).toBe('destination');
  });

  it('shows a clear error for a tampered id in the URL, and not-found for an unknown one', async () => {
    const page = await context.newPage();
    await page.goto(`${server.url}?_id=${encodeURIComponent("x' OR 1=1 --")}`);
    await opened(page, 'error');
    expect(await app(page).getAttribute('data-code')).toBe('invalid-task-id');
    expect(await page.textContent('#problem')).toMatch(/is not a task id .* Check the link, or start a new task\./);
    await page.goto(`${server.url}?_id=AAAAAAAAAAAAAAAAAAAAAA`);
    await opened(page, 'not-found');
    await page.click('#start-over');
    await opened(page);
    expect(idOf(page.url())).not.toBe('AAAAAAAAAAAAAAAAAAAAAA');
  });

  it('keeps compare-and-set in Chromium’s IndexedDB: one of two racing writes wins, and the page shows the conflict', async () => {
    const page = await context.newPage();
    await page.goto(server.url);
    await opened(page);
    const race = await page.evaluate(async () => {
      const { wayflowStore: store, wayflowTask: task } = globalThis as unknown as {
        wayflowStore: { put(r: unknown, v: number): Promise<void>; get(id: string, binder: string): Promise<{ version: number; data: unknown } | null> };
        wayflowTask: { toRecord(): { id: string; binder: string; version: number; data: Record<string, unknown> } };
      };
      const record = task.toRecord();
      const write = (who: string) => store.put({ ...record, version: record.version + 1, data: { destination: who } }, record.version);
      const settled = await Promise.allSettled([write('left'), write('right')]);
      const stored = await store.get(record.id, record.binder);
      return {
        outcomes: settled.map((s) => (s.status === 'fulfilled' ? 'ok' : (s.reason as { code: string }).code)),
        stored: stored && { version: stored.version, data: stored.data },
      };
    });
    expect([...race.outcomes].sort()).toEqual(['ok', 'version-conflict']);
    const winner = race.outcomes[0] === 'ok' ? 'left' : 'right';
    expect(race.stored).toEqual({ version: 2, data: { destination: winner } });
    // The page's task is now behind the store: its next submit is refused and shown, not lost or applied over the winner.
    await page.fill('#value', 'Paris');
    await page.click('#next');
    await expect.poll(() => page.textContent('#message')).toMatch(/changed elsewhere.*Reload the task and apply the change again/);
    await page.reload();
    await opened(page);
    expect((await view(page)).data).toEqual({ destination: winner });
  });
});
