/**
 * The check a registry write makes early, before it takes a version number or a name:
 * whether the writer may name these files, decided by the one rule of `auth/blob-naming.ts`.
 * What it found is handed to the document service's create (`heldBlobs`, `deletionBefore`),
 * which then looks nothing up again and, once the record's references are in place, fails the
 * write before anything is written if a concurrent garbage collection took one of the files.
 */
import type { Actor } from '../../auth/actor.js';
import { BlobNaming } from '../../auth/blob-naming.js';
import type { BlobStore } from '../../blobs/blob-store.js';
import type { BlobMention } from '../../blobs/lifecycle/blob-hashes-in-document.js';
import { lastDeletion } from '../../blobs/lifecycle/blob-uploads.js';
import type { DocumentStore } from '../../stores/document-store.js';
import type { DocumentParams } from '../documents/document-service.js';

export interface NamedBlob {
  /** What the record calls it (a path in a version, a file name in a model). */
  label: string;
  sha256: string;
  size: number;
}

/** The params of a create naming files this check found held. */
export type HeldFiles = Required<Pick<DocumentParams, 'heldBlobs' | 'deletionBefore'>>;

/**
 * Throws BadRequest naming the files the actor does not hold; answers what it found, for the
 * create's params.
 *
 * @example
 * const held = await assertBlobsHeld(store, blobs, actor, [{ label: 'MLmodel', sha256, size }]);
 * await super.create(record, held);
 */
export async function assertBlobsHeld(
  store: DocumentStore,
  blobs: BlobStore,
  actor: Actor,
  named: readonly NamedBlob[],
): Promise<HeldFiles> {
  // Read before the files are looked up: see `lostAmong`.
  const deletionBefore = await lastDeletion(store);
  const mentions = new Map<string, BlobMention>();
  for (const each of named) {
    if (!mentions.has(each.sha256)) mentions.set(each.sha256, { size: each.size, where: each.label });
  }
  const heldBlobs = await new BlobNaming(store, blobs).heldAmong(actor, mentions.keys());
  BlobNaming.assertMayName(mentions, undefined, heldBlobs);
  return { heldBlobs, deletionBefore };
}
