/**
 * Starts the built Larder CLI (`larder serve --no-auth`) on a free port over a data folder,
 * through the `larder` command's own entry (bin/larder.cjs, which sizes libuv's pool).
 */
import { fileURLToPath } from 'node:url';
import { startChildServer } from './child-server.mjs';
import { freePort } from './free-port.mjs';

const CLI = fileURLToPath(new URL('../../packages/cli/bin/larder.cjs', import.meta.url));

/**
 * @param {string} dataDir @param {string[]} [extraArgs] e.g. `['--db', url]`
 * @param {{ timeoutMs?: number }} [options] how long it may take to answer (default 30 s)
 */
export async function startLarder(dataDir, extraArgs = [], options = {}) {
  const port = await freePort();
  return startChildServer({
    name: 'Larder',
    command: process.execPath,
    args: [CLI, 'serve', '--no-auth', '--host', '127.0.0.1', '--port', String(port), '--data', dataDir, ...extraArgs],
    port,
    readyPath: '/health',
    timeoutMs: options.timeoutMs,
  });
}
