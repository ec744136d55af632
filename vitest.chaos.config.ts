import { defineConfig } from 'vitest/config';

/** Chaos tests: a PostgreSQL cluster of their own, crashed under load while real server and scheduler processes run (about a minute). */
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.chaos.ts'],
    environment: 'node',
    testTimeout: 240_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
