/**
 * Where the filesystem blob store keeps things under its root:
 * `sha256/ab/cd/<hash>` for blobs (two levels of 256 shards keep directories small) and
 * `tmp/` for uploads in progress. Every blob path is built here, from a validated hash only.
 */
import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LarderError } from '@larder/protocol';
import { isSha256 } from '../blob-store.js';
import { errorCode } from './fs-errors.js';

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
export function blobPath(root: string, sha256: string): string {
  if (!isSha256(sha256)) {
    const shown = JSON.stringify(String(sha256).slice(0, SHOWN_HASH_LENGTH));
    throw new LarderError(
      'BadRequest',
      `${shown} is not a blob hash: expected 64 lower-case hex characters (SHA-256).`,
    );
  }
  return join(blobsDirectory(root), sha256.slice(0, 2), sha256.slice(2, 4), sha256);
}

/** Every stored hash, in ascending order, read one shard directory at a time. */
export async function* listBlobHashes(root: string): AsyncGenerator<string> {
  const base = blobsDirectory(root);
  for (const first of await shardNames(base)) {
    for (const second of await shardNames(join(base, first))) {
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
