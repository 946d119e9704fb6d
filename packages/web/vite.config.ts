/**
 * The dashboard's build: Preact, hashed bundles under `_dashboard/` (a prefix no service name
 * can take, so the server never confuses them with API paths), and Brotli and gzip twins of
 * each text file so the server can send them compressed without compressing on every request.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import preact from '@preact/preset-vite';
import { defineConfig, type Plugin } from 'vite';

function precompressed(): Plugin {
  return {
    name: 'larder-precompressed',
    apply: 'build',
    // After writing: the files on disk are final (Vite rewrites chunks until the very end).
    async writeBundle(options, bundle) {
      const folder = options.dir ?? 'dist';
      await Promise.all(
        Object.keys(bundle)
          .filter((fileName) => /\.(js|css|html|svg|json)$/.test(fileName))
          .map(async (fileName) => {
            const bytes = await readFile(join(folder, fileName));
            if (bytes.length < 1024) return;
            const brotli = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
            await writeFile(join(folder, `${fileName}.br`), brotli);
            await writeFile(join(folder, `${fileName}.gz`), gzipSync(bytes, { level: 9 }));
          }),
      );
    },
  };
}

export default defineConfig({
  plugins: [preact(), precompressed()],
  build: {
    assetsDir: '_dashboard',
    target: 'es2022',
    reportCompressedSize: false,
  },
});
