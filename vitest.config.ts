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
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
