/**
 * Where a stock repository keeps things. `head.stock` (committed to git) names the current
 * commit; everything else lives in the git-ignored `.stock/` directory.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LarderError } from '@larder/protocol';

export const HEAD_FILE = 'head.stock';
export const STOCK_DIRECTORY = '.stock';

export interface StockLayout {
  root: string;
  head: string;
  directory: string;
  objects: string;
  /** Packs of small objects (`<sha256>.pack` + `<sha256>.idx`). */
  packs: string;
  scratch: string;
  lock: string;
  staging: string;
  /** Local settings (the remote repository pushes and pulls use). */
  config: string;
}

export function stockLayout(root: string): StockLayout {
  const directory = join(root, STOCK_DIRECTORY);
  return {
    root,
    head: join(root, HEAD_FILE),
    directory,
    objects: join(directory, 'objects'),
    packs: join(directory, 'packs'),
    scratch: join(directory, 'tmp'),
    lock: join(directory, 'write.lock'),
    staging: join(directory, 'staging.json'),
    config: join(directory, 'config.json'),
  };
}

/** The nearest directory at or above `start` holding `head.stock`. */
export function findStockRoot(start: string = process.cwd()): string {
  const from = resolve(start);
  for (let current = from; ; current = dirname(current)) {
    if (existsSync(join(current, HEAD_FILE))) return current;
    if (current === dirname(current)) break;
  }
  throw new LarderError(
    'NotFound',
    `No stock repository at ${from} or above it (no ${HEAD_FILE} found): run "larder stock init" first`,
  );
}

/** The nearest directory at or above `start` holding `.git`, if any. */
export function findGitRoot(start: string): string | undefined {
  for (let current = resolve(start); ; current = dirname(current)) {
    if (existsSync(join(current, '.git'))) return current;
    if (current === dirname(current)) return undefined;
  }
}
