/**
 * The datalake's peer for a folder of pictures: DVC, installed on demand with pip into a
 * virtual environment under bench/.peers/dvc. It does what a DVC user does to put a folder
 * under version control and share it: `dvc add <folder>` (hash every file into the cache)
 * then `dvc push` to a local remote (copy the cache to another folder), with no Git.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export const DVC_VERSION = '3.67.1';
const VENV = fileURLToPath(new URL('../.peers/dvc', import.meta.url));
const PYTHON = join(VENV, 'bin', 'python');
const DVC = join(VENV, 'bin', 'dvc');

function installedVersion() {
  if (!existsSync(DVC)) return undefined;
  const probe = spawnSync(DVC, ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? probe.stdout.trim() : undefined;
}

/** @returns {{ ok: true } | { ok: false, reason: string }} */
export function installDvc(log) {
  if (installedVersion() === DVC_VERSION) return { ok: true };
  log(`DVC: installing ${DVC_VERSION} with pip into ${VENV} (once)`);
  const venv = spawnSync('python3', ['-m', 'venv', VENV], { encoding: 'utf8' });
  if (venv.status !== 0) return { ok: false, reason: `python3 -m venv failed: ${venv.stderr.slice(-300)}` };
  const pip = spawnSync(PYTHON, ['-m', 'pip', 'install', '--quiet', `dvc==${DVC_VERSION}`], {
    encoding: 'utf8',
    timeout: 15 * 60_000,
  });
  if (pip.status !== 0) return { ok: false, reason: `pip install dvc failed: ${(pip.stderr || '').slice(-300)}` };
  return installedVersion() === DVC_VERSION
    ? { ok: true }
    : { ok: false, reason: `dvc --version did not answer ${DVC_VERSION} after install` };
}

function dvc(cwd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(DVC, args, {
      cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DVC_NO_ANALYTICS: '1' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-2000);
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`dvc ${args.join(' ')} exited ${code}: ${stderr.slice(-500)}`)),
    );
  });
}

/**
 * `dvc add` then `dvc push` of `folder` (moved into a fresh DVC project under `workRoot`, as a
 * user's data folder would sit in their project), timed separately.
 * @returns {Promise<{ addSeconds: number, pushSeconds: number, seconds: number }>}
 */
export async function dvcAddAndPush(workRoot, folder, name) {
  const project = join(workRoot, 'dvc-project');
  const remote = join(workRoot, 'dvc-remote');
  await mkdir(project, { recursive: true });
  await mkdir(remote, { recursive: true });
  await dvc(project, ['init', '--no-scm', '-q']);
  await dvc(project, ['config', 'core.analytics', 'false']);
  await dvc(project, ['remote', 'add', '-d', 'local', remote]);
  const target = join(project, name);
  spawnSync('cp', ['-r', folder, target]);
  const started = performance.now();
  await dvc(project, ['add', '-q', name]);
  const added = performance.now();
  await dvc(project, ['push', '-q']);
  const pushed = performance.now();
  return {
    addSeconds: (added - started) / 1000,
    pushSeconds: (pushed - added) / 1000,
    seconds: (pushed - started) / 1000,
  };
}
