/**
 * What the dashboard benches share: the Chromium to drive, and the built server (packages/server
 * and packages/web after `npm run build`) started on a fresh data folder with its admin's token.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.LARDER_TEST_CHROMIUM ?? '/usr/bin/chromium';

const root = new URL('../../', import.meta.url);
const serverEntry = new URL('server/dist/index.js', root);

/** Exits with what to do unless both the server and the dashboard were built. */
function requireBuild() {
  if (!existsSync(new URL('web/dist/index.html', root)) || !existsSync(serverEntry)) {
    console.error('Build first: npm run build');
    process.exit(1);
  }
}

/**
 * The built server on a fresh data folder named after `prefix`; `stop` closes it and removes
 * the folder.
 */
export async function startBuiltServer(prefix) {
  requireBuild();
  const { startServer } = await import(serverEntry.href);
  const dataDir = await mkdtemp(join(tmpdir(), prefix));
  const server = await startServer({ port: 0, dataDir, log: () => {}, gcIntervalMs: 0 });
  const stop = async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  };
  return { server, token: server.createdAdmin.token, stop };
}
