import { basename } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * Shared vitest settings: tests run in forked processes (tfjs-wasm holds a large heap). When
 * KDBENCH_TEST_REPORT_DIR is set (CI), each package also writes a JSON report there.
 */
const reportDir = process.env.KDBENCH_TEST_REPORT_DIR;

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 300_000,
    hookTimeout: 300_000,
    include: ['test/**/*.test.ts'],
    reporters: reportDir ? ['default', 'json'] : ['default'],
    outputFile: reportDir ? { json: `${reportDir}/${basename(process.cwd())}.json` } : undefined,
  },
});
