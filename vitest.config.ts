import { defineConfig } from 'vitest/config';

// Unit tests sit beside the code; e2e tests drive a real browser and run in their own files.
export default defineConfig({
  test: {
    include: [
      'src-main/**/*.test.ts',
      'src-shared/**/*.test.ts',
      'src-renderer/**/*.test.ts',
      'e2e/**/*.e2e.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default', './scripts/summaryReporter.ts'],
  },
});
