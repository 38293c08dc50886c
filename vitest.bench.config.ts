import { defineConfig } from 'vitest/config';

// `npm run bench`: every benchmark under bench/, one file at a time, so no
// two benchmarks share the two cores. Each file rewrites its own tables in
// bench/README.md (bench/lib/readme-section.ts).
export default defineConfig({
  test: {
    pool: 'forks',
    fileParallelism: false,
    globalSetup: ['bench/lib/global-build.ts'],
    testTimeout: 0,
    hookTimeout: 120_000,
    benchmark: {
      include: ['bench/**/*.bench.ts'],
    },
  },
});
