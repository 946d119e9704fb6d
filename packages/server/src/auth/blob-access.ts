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
import { eq, LarderError, or } from '@larder/protocol';
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

const CLAIM_BATCH = 500;

/**
 * Of `hashes`, those the actor holds a claim on (all of them for admins and internal
 * calls): `canReadBlob` for many hashes, one query per 500.
 */
export async function claimedAmong(store: DocumentStore, actor: Actor, hashes: Iterable<string>): Promise<Set<string>> {
  const wanted = [...new Set(hashes)];
  if (isAllPowerful(actor)) return new Set(wanted);
  const held = new Set<string>();
  for (let start = 0; start < wanted.length; start += CLAIM_BATCH) {
    for (const sha256 of await recordedClaims(store, actor, wanted.slice(start, start + CLAIM_BATCH))) held.add(sha256);
  }
  return held;
}

/** The claims rows say the actor holds among `hashes` (at most a batch). */
async function recordedClaims(store: DocumentStore, actor: Actor, hashes: readonly string[]): Promise<Set<string>> {
  const ids = hashes.map((sha256) => claimId(actor, sha256)).filter((id): id is string => id !== undefined);
  if (ids.length === 0) return new Set();
  const rows = await store.find(BLOB_CLAIMS_COLLECTION, { filter: or(...ids.map((id) => eq(['_id'], id))) });
  return new Set(rows.map((row) => String(row.sha256)));
}

/** `recordBlobClaim` for many hashes at once (a form of many files): a look-up and an insert per 500. */
export async function recordBlobClaims(store: DocumentStore, actor: Actor, hashes: Iterable<string>): Promise<void> {
  if (claimId(actor, '') === undefined) return;
  const wanted = [...new Set(hashes)];
  for (let start = 0; start < wanted.length; start += CLAIM_BATCH) {
    const slice = wanted.slice(start, start + CLAIM_BATCH);
    const held = await recordedClaims(store, actor, slice);
    const createdAt = new Date().toISOString();
    const rows = slice
      .filter((sha256) => !held.has(sha256))
      .map((sha256) => ({
        _id: claimId(actor, sha256) as string,
        sha256,
        userId: actor.kind === 'user' ? actor.user._id : 'local',
        createdAt,
      }));
    if (rows.length === 0) continue;
    try {
      await store.insert(BLOB_CLAIMS_COLLECTION, rows);
    } catch (error) {
      // Another request claimed some of them meanwhile: claim the rest one by one.
      if (!(error instanceof LarderError && error.name === 'Conflict')) throw error;
      for (const row of rows) await recordBlobClaim(store, actor, row.sha256);
    }
  }
}
