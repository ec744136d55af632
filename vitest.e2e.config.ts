import { defineConfig } from 'vitest/config';

/** End-to-end tests: real Chromium (playwright-core) and real server processes, run one file at a time. */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    passWithNoTests: true,
    // Screenshots a test attaches (`annotate`) are copied here, beside the ones it saves.
    attachmentsDir: 'test-results/attachments',
  },
});
