import { defineConfig } from 'vitest/config';

// Interop tests against real SIP peers installed from Debian (sip-tester, baresip).
export default defineConfig({
  test: {
    include: ['test/interop/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
