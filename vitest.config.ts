import { defineConfig } from 'vitest/config';

// Unit, store, API and end-to-end tests. The interop suite (sipp, baresip) has its own config.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/interop/**', 'node_modules/**'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
