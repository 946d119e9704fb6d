/** Turning a directory into a stock repository. */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { findGitRoot, HEAD_FILE, STOCK_DIRECTORY, stockLayout } from './stock-layout.js';

export interface InitResult {
  root: string;
  /** False when `head.stock` was already there (init is then only a repair). */
  created: boolean;
  /** The enclosing git repository, when there is one. */
  gitRoot: string | undefined;
  /** True when `.stock/` had to be added to the root's `.gitignore`. */
  gitignoreUpdated: boolean;
  /** One sentence for people. */
  message: string;
}

/**
 * Creates `head.stock` and the git-ignored `.stock/` store in `path` (the working directory by
 * default). Inside a git repository, commit `head.stock` and `.gitignore` so that checking out
 * old code also moves the data view back.
 *
 * @example
 * const { message } = await initStock('/projects/mnist');
 */
export async function initStock(path: string = process.cwd()): Promise<InitResult> {
  const root = resolve(path);
  const layout = stockLayout(root);
  await mkdir(layout.objects, { recursive: true });
  await mkdir(layout.scratch, { recursive: true });
  // The store ignores itself too, in case the root .gitignore is edited away.
  await writeFile(join(layout.directory, '.gitignore'), '*\n');
  const created = !existsSync(layout.head);
  if (created) await writeFile(layout.head, '');
  const gitignoreUpdated = await ignoreStore(join(root, '.gitignore'));
  const gitRoot = findGitRoot(root);
  const what = created ? 'Initialized a stock repository' : 'A stock repository was already there';
  const message =
    gitRoot === undefined
      ? `${what} in ${root}. It is not inside a git repository: run "git init" there to version ${HEAD_FILE} with your code.`
      : `${what} in ${root} (git repository ${gitRoot}). Commit ${HEAD_FILE} and .gitignore with your code.`;
  return { root, created, gitRoot, gitignoreUpdated, message };
}

async function ignoreStore(gitignore: string): Promise<boolean> {
  const entry = `/${STOCK_DIRECTORY}/`;
  const existing = existsSync(gitignore) ? await readFile(gitignore, 'utf8') : '';
  const lines = existing.split(/\r?\n/).map((line) => line.trim());
  const forms = [STOCK_DIRECTORY, `${STOCK_DIRECTORY}/`, `/${STOCK_DIRECTORY}`, entry];
  if (lines.some((line) => forms.includes(line))) return false;
  const separator = existing === '' || existing.endsWith('\n') ? '' : '\n';
  await appendFile(gitignore, `${separator}${entry}\n`);
  return true;
}
