import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources; the build is checked separately.
    alias: {
      '@larder/protocol': source('protocol'),
      '@larder/server': source('server'),
      '@larder/client': source('client'),
      '@larder/pmf': source('pmf'),
      '@larder/stock': source('stock'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    // A guard against hangs, not a speed check: the heaviest end-to-end tests (probe sweeps,
    // CLI round trips through a real server) pass 30 s on a loaded 2-core machine.
    testTimeout: 90_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
