/**
 * `.stock/config.json`: this copy's local settings, today only the server repository that
 * push and pull use (`{"remote": {"repo": "mnist"}}`). It lives in the git-ignored store, so
 * each clone chooses its own. Fields this version does not know are kept when it writes.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { LarderError } from '@larder/protocol';
import { writeFileAtomically } from '../objects/atomic-file.js';
import type { StockLayout } from '../repository/stock-layout.js';

export interface StockConfig {
  remote?: {
    /** The name of the repository on the server. */
    repo?: string;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export async function readStockConfig(layout: StockLayout): Promise<StockConfig> {
  let text: string;
  try {
    text = await readFile(layout.config, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw cause;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw damaged(layout, cause);
  }
  const config = parsed as StockConfig | null;
  const remote = config?.remote;
  const valid =
    config !== null &&
    typeof config === 'object' &&
    !Array.isArray(config) &&
    (remote === undefined || (remote !== null && typeof remote === 'object' && !Array.isArray(remote))) &&
    (remote?.repo === undefined || typeof remote.repo === 'string');
  if (!valid) throw damaged(layout);
  return config;
}

/** Records the remote repository's name, keeping every other setting. */
export async function saveRemoteRepository(layout: StockLayout, repo: string): Promise<void> {
  const config = await readStockConfig(layout);
  if (config.remote?.repo === repo) return;
  const updated: StockConfig = { ...config, remote: { ...config.remote, repo } };
  await writeFileAtomically(layout.config, `${JSON.stringify(updated, null, 2)}\n`, layout.scratch);
}

function damaged(layout: StockLayout, cause?: unknown): LarderError {
  return new LarderError(
    'Unprocessable',
    `${layout.config} is not a valid stock config: fix it, or delete it and pass --repo again`,
    { cause },
  );
}

/**
 * The server repository to use: the one given, else the one recorded in the config, else
 * the stock root's directory name.
 */
export async function chooseRepositoryName(layout: StockLayout, given: string | undefined): Promise<string> {
  if (given !== undefined && given.trim() !== '') return given.trim();
  const saved = (await readStockConfig(layout)).remote?.repo;
  if (saved !== undefined && saved !== '') return saved;
  const folder = basename(layout.root)
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '');
  if (folder === '') {
    throw new LarderError('BadRequest', 'Name the server repository: give --repo <name> (it is remembered)');
  }
  return folder.slice(0, 100);
}
