/**
 * Sending a PMF tree's files for a push, each file read once for its hashes: worker threads
 * compute its SHA-256 (whole and per upload chunk) and its MD5 in one pass, the strict PMF
 * check takes those MD5s instead of reading the checkpoints itself, and the main thread
 * sends the files already hashed (two at a time) while the next ones are read. The tree's
 * structure is checked before any byte is sent, each checkpoint's MD5 before it is sent,
 * and the whole strict check passes before the version is recorded.
 */
import { resolve } from 'node:path';
import { Checkpoint, type Model, md5File } from '@larder/pmf';
import { LarderError } from '@larder/protocol';
import { type BlobClient, DEFAULT_CHUNK_BYTES, type UploadOptions } from '../blobs/blob-client.js';
import { type FileHashes, HashPool } from '../blobs/file-hashing.js';
import type { VersionFile } from './model-records.js';
import { listPmfTree, loadPmf, type PmfTree, readPmfTree } from './pmf-tree.js';

export interface PushedTree {
  tree: PmfTree;
  files: VersionFile[];
  sent: string[];
  skipped: string[];
}

export interface PushTreeOptions {
  upload?: UploadOptions;
  onFile?: (file: { path: string; size: number; sent: boolean }) => void;
  /** Files sent at once (default 2). */
  concurrency?: number;
}

export async function pushTreeFiles(
  blobs: BlobClient,
  root: string,
  options: PushTreeOptions = {},
): Promise<PushedTree> {
  // Structure first (metadata, layout, named files present): a broken tree sends nothing.
  const structure = await loadPmf(root, false);
  const recorded = recordedMd5s(structure);
  const listed = await listPmfTree(root);
  const chunkBytes = Math.max(1, options.upload?.chunkBytes ?? DEFAULT_CHUNK_BYTES);
  const pool = new HashPool();
  const hashes = new Map<string, Promise<FileHashes>>();
  try {
    for (const file of listed.files) {
      const hashing = pool.hash(file.absolute, { chunkBytes, md5: true });
      hashing.catch(() => {}); // awaited below; a failure is reported there
      hashes.set(resolve(file.absolute), hashing);
    }
    const md5 = async (path: string) => {
      const hashing = hashes.get(resolve(path));
      return hashing ? ((await hashing).md5 as string) : md5File(path);
    };
    const sent: string[] = [];
    const skipped: string[] = [];
    const files: VersionFile[] = new Array(listed.files.length);
    let next = 0;
    let failed = false;
    const sender = async () => {
      while (!failed && next < listed.files.length) {
        const index = next++;
        const file = listed.files[index] as (typeof listed.files)[number];
        const hashed = await (hashes.get(resolve(file.absolute)) as Promise<FileHashes>);
        if (hashed.size !== file.size) {
          throw new LarderError('Conflict', `${file.path} changed while it was being pushed; push again`);
        }
        // A checkpoint that does not match its recorded MD5 is refused before it is sent.
        const md5 = recorded.get(resolve(file.absolute));
        if (md5 !== undefined && md5 !== hashed.md5) {
          throw new LarderError(
            'BadRequest',
            `${file.path} does not match its recorded MD5: the PMF model is not valid`,
          );
        }
        let held = false;
        const uploaded = await blobs.uploadHashed(file.absolute, hashed, {
          ...options.upload,
          onHeld: () => {
            held = true;
          },
        });
        (held ? skipped : sent).push(file.path);
        options.onFile?.({ path: file.path, size: file.size, sent: !held });
        files[index] = { path: file.path, sha256: uploaded.sha256, size: file.size };
      }
    };
    const senders = Array.from({ length: Math.max(1, options.concurrency ?? 2) }, () =>
      sender().catch((error: unknown) => {
        failed = true;
        throw error;
      }),
    );
    // The strict check (every recorded MD5) runs beside the sending, on the same digests.
    const [tree] = await Promise.all([readPmfTree(root, { md5 }), ...senders]);
    const order = (paths: string[]) => {
      const among = new Set(paths);
      return listed.files.map((file) => file.path).filter((path) => among.has(path));
    };
    return { tree, files, sent: order(sent), skipped: order(skipped) };
  } finally {
    await pool.close();
  }
}

/** The MD5s the metadata records for the checkpoints and the initialisation file, by absolute path. */
function recordedMd5s(model: Model): Map<string, string> {
  const recorded = new Map<string, string>();
  for (const [, checkpoint] of model.checkpointCollection) {
    if (checkpoint.path) recorded.set(resolve(checkpoint.path), checkpoint.hash);
  }
  const init = model.initialisation;
  if (init instanceof Checkpoint && init.path) recorded.set(resolve(init.path), init.hash);
  return recorded;
}
