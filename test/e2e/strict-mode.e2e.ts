import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/server/log.ts';
import type { RunningServer } from '../../src/server/serve.ts';
import { buildDemoForDevelopment, heading, serveDemo } from './fixtures/demo.ts';
import { launchChromium } from './fixtures/persist/serve.ts';

let browser: Browser;
let server: RunningServer;
let dataDir: string;
let outDir: string;
const requests: LogEntry[] = [];

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'wayflow-demo-dev-'));
  dataDir = await mkdtemp(join(tmpdir(), 'wayflow-demo-dev-data-'));
  await buildDemoForDevelopment(outDir);
  server = await serveDemo({ dataDir, staticDir: outDir, write: (line) => requests.push(JSON.parse(line) as LogEntry) });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  for (const dir of [dataDir, outDir]) if (dir) await rm(dir, { recursive: true, force: true });
});

const idOf = (page: Page) => new URL(page.url()).searchParams.get('_id');
const created = () => requests.filter((r) => r.method === 'PUT' && r.status === 201);

describe('the demo in development, under React StrictMode', () => {
  it('runs React’s development build, which mounts every effect twice under StrictMode', async () => {
    const scripts = await readdir(join(outDir, 'assets'));
    const code = await Promise.all(scripts.filter((name) => name.endsWith('.js')).map((name) => readFile(join(outDir, 'assets', name), 'utf8')));
    expect(code.join('\n')).toMatch(/react-dom[\w-]*\.development\.js/);
  });

  it('starts one task, and a reload mid-flow keeps its id, its step and what was typed', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${server.url}/checkout`);
    await heading(page, 'Do you want to buy this?');
    await expect.poll(() => idOf(page)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const id = idOf(page);
    await page.getByLabel('Quantity').fill('2');
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await heading(page, 'Tell us who you are');
    await page.getByLabel('Log in to your account').check();
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await heading(page, 'Log in to your account');
    await page.getByLabel('Email').fill('ada@example.com');
    await page.waitForTimeout(700);
    await page.reload();
    await heading(page, 'Log in to your account');
    expect(await page.getByLabel('Email').inputValue()).toBe('ada@example.com');
    expect(idOf(page)).toBe(id);
    const path = new URL(page.url()).pathname;
    await page.reload();
    await heading(page, 'Log in to your account');
    expect(idOf(page)).toBe(id);
    expect(new URL(page.url()).pathname).toBe(path);
    await page.goBack();
    await heading(page, 'Tell us who you are');
    expect(idOf(page)).toBe(id);
    expect(created(), 'exactly one task record was created').toHaveLength(1);
    expect(requests.filter((r) => r.method === 'PUT' && r.status !== 200 && r.status !== 201)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });
});
