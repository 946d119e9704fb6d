/**
 * A record may name a blob only when its writer holds it: the bytes are stored, their size is
 * the one declared, and the writer uploaded them (a claim, see `auth/blob-access.ts`).
 * Otherwise knowing a hash would be enough to publish someone else's private file through a
 * model. After the record (and so its blob references) is written, `confirmSurvival`
 * closes the race with a garbage collection that was deciding about the same blobs.
 */
import { LarderError } from '@larder/protocol';
import type { Actor } from '../../auth/actor.js';
import { canReadBlob } from '../../auth/blob-access.js';
import type { BlobStore } from '../../blobs/blob-store.js';
import { survivesCollection } from '../../blobs/lifecycle/blob-uploads.js';
import type { DocumentStore } from '../../stores/document-store.js';

export interface NamedBlob {
  /** What the record calls it (a path in a version, a file name in a model). */
  label: string;
  sha256: string;
  size: number;
}

const SHOWN = 5;

/** Throws BadRequest naming the files the actor does not hold. */
export async function assertBlobsHeld(
  store: DocumentStore,
  blobs: BlobStore,
  actor: Actor,
  named: readonly NamedBlob[],
): Promise<void> {
  const missing: string[] = [];
  const wrongSize: string[] = [];
  const verdicts = new Map<string, Promise<number | undefined>>();
  const sizeOf = (sha256: string) => {
    let verdict = verdicts.get(sha256);
    if (!verdict) {
      verdict = (async () => {
        if (!(await canReadBlob(store, actor, sha256))) return undefined;
        return (await blobs.stat(sha256))?.size;
      })();
      verdicts.set(sha256, verdict);
    }
    return verdict;
  };
  for (const each of named) {
    const size = await sizeOf(each.sha256);
    if (size === undefined) missing.push(each.label);
    else if (size !== each.size) wrongSize.push(`${each.label} (${each.size} declared, ${size} stored)`);
  }
  if (missing.length > 0) {
    throw new LarderError(
      'BadRequest',
      `${count(missing.length)} not on the server or not uploaded by you: ${shown(missing)}. ` +
        'Upload the bytes first (POST /blobs); a hash alone does not prove you hold a file',
      { data: { missing } },
    );
  }
  if (wrongSize.length > 0) {
    throw new LarderError(
      'BadRequest',
      `${count(wrongSize.length)} declared with the wrong size: ${shown(wrongSize)}. Send the size the upload answered`,
    );
  }
}

/** Answers whether every blob is still stored once no collection is deciding about it. */
export async function confirmSurvival(
  store: DocumentStore,
  blobs: BlobStore,
  hashes: Iterable<string>,
): Promise<boolean> {
  for (const sha256 of new Set(hashes)) {
    if (!(await survivesCollection(store, blobs, sha256))) return false;
  }
  return true;
}

function count(n: number): string {
  return n === 1 ? '1 file is' : `${n} files are`;
}

function shown(labels: readonly string[]): string {
  const head = labels.slice(0, SHOWN).join(', ');
  return labels.length > SHOWN ? `${head} and ${labels.length - SHOWN} more` : head;
}
