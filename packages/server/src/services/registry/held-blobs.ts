/**
 * Checks a registry write can make early, before it takes a version number: whether the
 * writer may name these files, decided by the one rule of `auth/blob-naming.ts` (the document
 * service applies it again to the record as stored). After the record (and so its blob
 * references) is written, `confirmSurvival` closes the race with a garbage collection that
 * was deciding about the same blobs.
 */
import type { Actor } from '../../auth/actor.js';
import { BlobNaming } from '../../auth/blob-naming.js';
import type { BlobStore } from '../../blobs/blob-store.js';
import type { BlobMention } from '../../blobs/lifecycle/blob-hashes-in-document.js';
import { survivesCollection } from '../../blobs/lifecycle/blob-uploads.js';
import type { DocumentStore } from '../../stores/document-store.js';

export interface NamedBlob {
  /** What the record calls it (a path in a version, a file name in a model). */
  label: string;
  sha256: string;
  size: number;
}

/** Throws BadRequest naming the files the actor does not hold. */
export async function assertBlobsHeld(
  store: DocumentStore,
  blobs: BlobStore,
  actor: Actor,
  named: readonly NamedBlob[],
): Promise<void> {
  const mentions = new Map<string, BlobMention>();
  for (const each of named) {
    if (!mentions.has(each.sha256)) mentions.set(each.sha256, { size: each.size, where: each.label });
  }
  const held = await new BlobNaming(store, blobs).heldAmong(actor, mentions.keys());
  BlobNaming.assertMayName(mentions, undefined, held);
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
