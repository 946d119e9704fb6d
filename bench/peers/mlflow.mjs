/**
 * The tracking peer: an MLflow tracking server (`mlflow server` on its SQLite default),
 * installed on demand with pip into a virtual environment under bench/.peers/mlflow and
 * driven through its REST API (runs/create, runs/log-batch, runs/search,
 * metrics/get-history), the way its clients talk to it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChildServer } from '../servers/child-server.mjs';
import { freePort } from '../servers/free-port.mjs';

export const MLFLOW_VERSION = '3.17.2';
const VENV = fileURLToPath(new URL('../.peers/mlflow', import.meta.url));
const PYTHON = join(VENV, 'bin', 'python');
/** The peer's Python, whose `mlflow` package is also the client of the MLflow client workload. */
export const MLFLOW_PYTHON = PYTHON;
const MLFLOW = join(VENV, 'bin', 'mlflow');

function installedVersion() {
  if (!existsSync(PYTHON)) return undefined;
  const probe = spawnSync(PYTHON, ['-c', 'import mlflow; print(mlflow.__version__)'], { encoding: 'utf8' });
  return probe.status === 0 ? probe.stdout.trim() : undefined;
}

/** @returns {{ ok: true } | { ok: false, reason: string }} */
export function installMlflow(log) {
  if (installedVersion() === MLFLOW_VERSION) return { ok: true };
  log(`MLflow: installing ${MLFLOW_VERSION} with pip into ${VENV} (once)`);
  const venv = spawnSync('python3', ['-m', 'venv', VENV], { encoding: 'utf8' });
  if (venv.status !== 0) return { ok: false, reason: `python3 -m venv failed: ${venv.stderr.slice(-300)}` };
  const pip = spawnSync(PYTHON, ['-m', 'pip', 'install', '--quiet', `mlflow==${MLFLOW_VERSION}`], {
    encoding: 'utf8',
    timeout: 15 * 60_000,
  });
  if (pip.status !== 0) return { ok: false, reason: `pip install mlflow failed: ${(pip.stderr || '').slice(-300)}` };
  return installedVersion() === MLFLOW_VERSION
    ? { ok: true }
    : { ok: false, reason: 'mlflow did not import after install' };
}

/**
 * Starts `mlflow server` over a fresh SQLite file and artifact folder. `proxyArtifacts`:
 * clients send artifacts through the server (`--artifacts-destination`, runs get
 * `mlflow-artifacts:/` locations), as Larder's face does, instead of writing the folder.
 */
export async function startMlflow(dataDir, { proxyArtifacts = false } = {}) {
  const port = await freePort();
  return startChildServer({
    name: 'MLflow',
    command: MLFLOW,
    args: [
      'server',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--backend-store-uri',
      `sqlite:///${join(dataDir, 'mlflow.db')}`,
      ...(proxyArtifacts
        ? ['--artifacts-destination', join(dataDir, 'artifacts')]
        : ['--default-artifact-root', join(dataDir, 'artifacts')]),
      '--workers',
      '1',
    ],
    port,
    readyPath: '/health',
    timeoutMs: 120_000,
  });
}
