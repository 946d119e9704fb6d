/**
 * Who may read a blob, and who may learn that a hash exists.
 *
 * A blob is content; knowing a hash is not proof of holding the content. So a user may
 * read (GET) or probe (HEAD) a blob only when they hold a claim on it: they uploaded those
 * exact bytes themselves (the server hashed what it received). Anyone else gets 404,
 * whether or not the hash is stored, so a private file cannot be read or even detected
 * by guessing its hash. Re-uploading bytes the server already has stores nothing new and
 * grants a claim, since the uploader has just proven they hold them.
 * Admins, internal calls and `--no-auth` servers read everything. Services that hand out
 * files (artifacts, assets, models) grant reads through their own records' permissions.
 */
import { eq, LarderError } from '@larder/protocol';
import type { DocumentStore } from '../stores/document-store.js';
import { type Actor, isAllPowerful } from './actor.js';

export const BLOB_CLAIMS_COLLECTION = '_blob_claims';

function claimId(actor: Actor, sha256: string): string | undefined {
  if (actor.kind === 'user') return `${actor.user._id}:${sha256}`;
  if (actor.kind === 'local-owner') return `local:${sha256}`;
  return undefined;
}

export async function recordBlobClaim(store: DocumentStore, actor: Actor, sha256: string): Promise<void> {
  const id = claimId(actor, sha256);
  if (id === undefined) return;
  try {
    await store.insert(BLOB_CLAIMS_COLLECTION, [
      {
        _id: id,
        sha256,
        userId: actor.kind === 'user' ? actor.user._id : 'local',
        createdAt: new Date().toISOString(),
      },
    ]);
  } catch (error) {
    if (!(error instanceof LarderError && error.name === 'Conflict')) throw error;
  }
}

export async function canReadBlob(store: DocumentStore, actor: Actor, sha256: string): Promise<boolean> {
  if (isAllPowerful(actor)) return true;
  const id = claimId(actor, sha256);
  if (id === undefined) return false;
  return (await store.count(BLOB_CLAIMS_COLLECTION, eq(['_id'], id))) > 0;
}
