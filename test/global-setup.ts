import type { TestProject } from 'vitest/node';
import { chromiumVersion, describeChromium, resolveChromium } from './helpers/chromium.mjs';
import { resolveTestDatabase } from './helpers/test-database.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The PostgreSQL every test uses, resolved once per run (see test/helpers/database-url.ts). */
    databaseUrl: string;
    /** What the end-to-end tests pass to `chromium.launch`, resolved once per end-to-end run. */
    chromium: { executablePath: string; args: string[] };
  }
}

/**
 * Finds or starts what the run needs, once: the database, and for the end-to-end run the
 * browser (test/helpers/test-database.mjs and chromium.mjs say in which order); prints one
 * line naming them; and stops at the end what it started.
 */
export async function provideTestServices(project: TestProject, { browser }: { browser: boolean }): Promise<() => Promise<void>> {
  const database = await resolveTestDatabase();
  project.provide('databaseUrl', database.url);
  let line = `wayflow tests use ${database.description}`;
  if (browser) {
    try {
      const chromium = await resolveChromium();
      project.provide('chromium', { executablePath: chromium.executablePath, args: chromium.args });
      line += ` and ${describeChromium(chromium, await chromiumVersion(chromium.executablePath))}`;
    } catch (error) {
      await database.stop();
      throw error;
    }
  }
  console.log(line);
  return () => database.stop();
}

/** The unit run's global set-up: the database only. */
export default (project: TestProject) => provideTestServices(project, { browser: false });
