/**
 * Which Larder was measured: the commit, and whether packages/ had uncommitted changes
 * when the run built it (the figures then belong to that working tree, not the commit).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function git(args) {
  const result = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

export function sourceInfo() {
  const changed = git(['status', '--porcelain', '--', 'packages']);
  return {
    commit: git(['rev-parse', 'HEAD']) ?? 'unknown',
    subject: git(['log', '-1', '--format=%s']) ?? 'unknown',
    uncommittedChangesInPackages: changed === undefined ? 'unknown' : changed.split('\n').filter(Boolean).length,
  };
}
