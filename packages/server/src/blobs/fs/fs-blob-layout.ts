/**
 * Where the filesystem blob store keeps things under its root: `sha256/ab/<hash>` for blobs
 * (one level of 256 shard directories) and `tmp/` for uploads in progress. Stores made before
 * 3 December 2026 keep `sha256/ab/cd/<hash>` (two levels, 65,536 directories): the levels are
 * recorded in `sha256/levels` when a store is first opened, and found from the shards already
 * there for a store older than that file. Every blob path is built here, from a validated
 * hash only.
 *
 * One level: a new blob lands in a directory that already exists, so a small file costs no
 * `mkdir` and a batch syncs each of at most 256 directories once. With two levels, until a
 * store held a few hundred thousand blobs nearly every one made a leaf directory and synced
 * it and its parent (1.65 directory syncs and 0.72 `mkdir` a file). A directory of a few
 * thousand or tens of thousands of entries is indexed by every current filesystem.
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { LarderError } from '@larder/protocol';
import { isSha256 } from '../blob-store.js';
import { syncDirectory, writeNewFile } from './durable-files.js';
import { errorCode } from './fs-errors.js';

/** Levels of 256 shard directories above a blob. */
export type ShardLevels = 1 | 2;

const LEVELS_FILE = 'levels';

const SHARD_NAME = /^[0-9a-f]{2}$/;
const SHOWN_HASH_LENGTH = 80;

/** Directory holding the sharded blobs. */
export function blobsDirectory(root: string): string {
  return join(root, 'sha256');
}

/** Directory holding uploads in progress; nothing else writes there. */
export function tempDirectory(root: string): string {
  return join(root, 'tmp');
}

/** A fresh, unique temp file path for one upload. */
export function newTempPath(root: string): string {
  return join(tempDirectory(root), `${randomUUID()}.part`);
}

/**
 * The path of a blob. Rejects anything but 64 lower-case hex characters, so no input can
 * name a file outside the root.
 */
export function blobPath(root: string, sha256: string, levels: ShardLevels): string {
  if (!isSha256(sha256)) {
    const shown = JSON.stringify(String(sha256).slice(0, SHOWN_HASH_LENGTH));
    throw new LarderError(
      'BadRequest',
      `${shown} is not a blob hash: expected 64 lower-case hex characters (SHA-256).`,
    );
  }
  if (levels === 1) return join(blobsDirectory(root), sha256.slice(0, 2), sha256);
  return join(blobsDirectory(root), sha256.slice(0, 2), sha256.slice(2, 4), sha256);
}

/**
 * The store's shard levels: those `sha256/levels` records; else two when shard directories
 * are already there (a store from before the file), and one for a new store; recorded, synced,
 * before any blob is placed. Call it once the blobs directory exists.
 */
export async function openShardLevels(root: string): Promise<ShardLevels> {
  const file = join(blobsDirectory(root), LEVELS_FILE);
  let recorded: string | undefined;
  try {
    recorded = (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
  if (recorded === '1' || recorded === '2') return Number(recorded) as ShardLevels;
  if (recorded !== undefined) {
    throw new LarderError(
      'GeneralError',
      `${file} says ${JSON.stringify(recorded.slice(0, 20))}; a blob store's levels file holds 1 or 2.`,
    );
  }
  const levels: ShardLevels = (await shardNames(blobsDirectory(root))).length > 0 ? 2 : 1;
  const staged = join(tempDirectory(root), `${randomUUID()}.levels`);
  await writeNewFile(staged, [Buffer.from(`${levels}\n`)], true);
  await rename(staged, file);
  await syncDirectory(blobsDirectory(root));
  return levels;
}

/** Every stored hash, in ascending order, read one shard directory at a time. */
export async function* listBlobHashes(root: string, levels: ShardLevels): AsyncGenerator<string> {
  const base = blobsDirectory(root);
  for (const first of await shardNames(base)) {
    const seconds = levels === 1 ? [''] : await shardNames(join(base, first));
    for (const second of seconds) {
      const prefix = first + second;
      const entries = await readDirectory(join(base, first, second));
      const hashes = entries.filter((entry) => entry.isFile() && isSha256(entry.name) && entry.name.startsWith(prefix));
      for (const name of hashes.map((entry) => entry.name).sort()) yield name;
    }
  }
}

async function shardNames(directory: string): Promise<string[]> {
  const entries = await readDirectory(directory);
  return entries
    .filter((entry) => entry.isDirectory() && SHARD_NAME.test(entry.name))
    .map((entry) => entry.name)
    .sort();
}

async function readDirectory(directory: string) {
  try {
    return await readdir(directory, { withFileTypes: true });
  } catch (error) {
    // A shard removed while we walk, or a store never opened, simply holds nothing.
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
}
