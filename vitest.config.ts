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
    // UI and network conditions settle within a frame or a request; 10 s only absorbs a loaded CI machine.
    expect: { poll: { timeout: 10_000 } },
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: true,
    // Three on two cores: many tests wait on real time (paced markets, servers starting, a browser), so a third
    // file overlaps those waits (measured 506 s against 560 s for the whole suite here).
    maxWorkers: 3,
    reporters: ['default', './scripts/summaryReporter.ts'],
  },
});
