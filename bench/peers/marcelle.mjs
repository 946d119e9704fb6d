/**
 * The reference peer: `@marcellejs/backend` 0.6.5 (Feathers 4 + NeDB), installed on demand
 * into bench/.peers/marcelle and started with a config written for this run: NeDB files in
 * a fresh folder, auth off, every service allowed, 127.0.0.1 and a free port.
 * It runs with NODE_ENV=production, which leaves out the package's development-only
 * feathers-debugger service (it would record every call in a second NeDB file).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChildServer } from '../servers/child-server.mjs';
import { freePort } from '../servers/free-port.mjs';

export const MARCELLE_VERSION = '0.6.5';
const PREFIX = fileURLToPath(new URL('../.peers/marcelle', import.meta.url));
const MODULES = join(PREFIX, 'node_modules');
const PACKAGE_JSON = join(MODULES, '@marcellejs/backend/package.json');
const LAUNCHER = fileURLToPath(new URL('./marcelle-launcher.cjs', import.meta.url));

function installedVersion() {
  if (!existsSync(PACKAGE_JSON)) return undefined;
  return JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')).version;
}

/**
 * Installs the peer unless the pinned version is already there.
 * @returns {{ ok: true, installed: boolean } | { ok: false, reason: string }}
 */
export function ensureMarcelleInstalled() {
  if (installedVersion() === MARCELLE_VERSION) return { ok: true, installed: false };
  console.log(`Installing @marcellejs/backend@${MARCELLE_VERSION} into ${PREFIX} …`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const args = [
    'install',
    '--prefix',
    PREFIX,
    '--save-exact',
    `@marcellejs/backend@${MARCELLE_VERSION}`,
    '--no-audit',
    '--no-fund',
  ];
  const result = spawnSync(npm, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0 || installedVersion() !== MARCELLE_VERSION) {
    const detail = `${result.error?.message ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-5).join(' / ');
    return { ok: false, reason: `npm install of @marcellejs/backend@${MARCELLE_VERSION} failed: ${detail}` };
  }
  return { ok: true, installed: true };
}

/** The configuration the package reads from NODE_CONFIG_DIR/default.json. */
function configFor(port, dataDir) {
  return {
    host: '127.0.0.1',
    port,
    database: 'nedb',
    nedb: join(dataDir, 'nedb'),
    uploads: join(dataDir, 'uploads'),
    whitelist: { services: '*', assets: ['jpg', 'jpeg', 'png', 'wav'] },
    paginate: { default: 100, max: 1000 },
    authentication: { enabled: false, secret: 'unused-because-auth-is-off' },
  };
}

/** @param {string} dataDir a fresh folder for this run */
export async function startMarcelle(dataDir) {
  const port = await freePort();
  const configDir = join(dataDir, 'config');
  await mkdir(configDir, { recursive: true });
  await mkdir(join(dataDir, 'nedb'), { recursive: true });
  await writeFile(join(configDir, 'default.json'), JSON.stringify(configFor(port, dataDir), null, 2));
  return startChildServer({
    name: 'Marcelle backend',
    command: process.execPath,
    args: [LAUNCHER, String(port)],
    cwd: dataDir,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      NODE_CONFIG_DIR: configDir,
      NODE_PATH: MODULES,
      SUPPRESS_NO_CONFIG_WARNING: '1',
    },
    port,
    readyPath: '/info',
  });
}
