import { defineConfig } from 'vitest/config';

// Integration tests drive real ffmpeg, RTSP servers, model workers and Chromium on a 2-core machine:
// run files one at a time so their timing measurements do not fight each other for CPU.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
