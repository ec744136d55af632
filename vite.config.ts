import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

/** Library build (one ESM file per public entry) and the vitest configuration. */
export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    sourcemap: true,
    lib: {
      formats: ['es'],
      entry: {
        core: resolve(import.meta.dirname, 'src/core/index.ts'),
        graph: resolve(import.meta.dirname, 'src/core/graph.ts'),
        persist: resolve(import.meta.dirname, 'src/persist/index.ts'),
        react: resolve(import.meta.dirname, 'src/react/index.ts'),
        router: resolve(import.meta.dirname, 'src/router/index.ts'),
        automations: resolve(import.meta.dirname, 'src/automations/index.ts'),
        sync: resolve(import.meta.dirname, 'src/sync/index.ts'),
        'react-automations': resolve(import.meta.dirname, 'src/react/automations/index.ts'),
        'react-save': resolve(import.meta.dirname, 'src/react/save/index.ts'),
        'react-fields': resolve(import.meta.dirname, 'src/react/fields/index.ts'),
        'react-map': resolve(import.meta.dirname, 'src/react/map/index.ts'),
        'react-funnel': resolve(import.meta.dirname, 'src/react/funnel/index.ts'),
      },
    },
    rollupOptions: {
      external: (id) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0'),
    },
  },
  resolve: {
    alias: [
      { find: /^wayflow$/, replacement: resolve(import.meta.dirname, 'src/core/index.ts') },
      { find: /^wayflow\/graph$/, replacement: resolve(import.meta.dirname, 'src/core/graph.ts') },
      { find: /^wayflow\/react\/(automations|save|fields|map|funnel)$/, replacement: resolve(import.meta.dirname, 'src/react/$1/index.ts') },
      { find: /^wayflow\/(persist|react|router|server|automations|sync)$/, replacement: resolve(import.meta.dirname, 'src/$1/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    setupFiles: ['test/setup.ts'],
    globalSetup: ['test/global-setup.ts'],
    environment: 'node',
    testTimeout: 60_000,
    // PGlite takes ~4 s to start, several times that on a busy machine: a setup hook must not fail for it.
    hookTimeout: 60_000,
  },
});
