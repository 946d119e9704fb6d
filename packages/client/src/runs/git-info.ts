/**
 * The git state of the working directory, read with read-only commands (`status` runs with
 * `--no-optional-locks` so it never rewrites the index). Without git or outside a
 * repository the answer is `null`.
 */
import { runQuietly } from './platform-info.js';

export interface GitInfo {
  /** The `origin` remote's URL; `null` without one. */
  repository: string | null;
  commit: string;
  /** `null` on a detached HEAD. */
  branch: string | null;
  /** Whether tracked or untracked files differ from the commit; `null` when `git status` failed or timed out. */
  dirty: boolean | null;
}

/**
 * @example
 * const git = await captureGit(); // { repository: 'git@…', commit: '3f2a…', branch: 'main', dirty: false }
 */
export async function captureGit(cwd: string = process.cwd()): Promise<GitInfo | null> {
  const git = (...args: string[]) => runQuietly('git', ['--no-optional-locks', ...args], cwd);
  const commit = (await git('rev-parse', 'HEAD'))?.trim();
  if (!commit) return null;
  const [remote, branch, status] = await Promise.all([
    git('remote', 'get-url', 'origin'),
    git('rev-parse', '--abbrev-ref', 'HEAD'),
    git('status', '--porcelain'),
  ]);
  const branchName = branch?.trim();
  return {
    repository: remote?.trim() || null,
    commit,
    branch: branchName && branchName !== 'HEAD' ? branchName : null,
    dirty: status === undefined ? null : status.trim() !== '',
  };
}
