/**
 * The one place that decides whether a record may name a blob. Readers of a record are
 * handed the files it names (run files, artifacts, model files, pictures, thumbnails), so
 * naming a blob publishes it: a writer may newly name only blobs they hold (a claim: they
 * uploaded those bytes, see `blob-access.ts`), that are stored, with the size they state.
 * Blobs the record named before the write stay allowed (a reader-writer of a shared run may
 * patch its description without holding every file in it).
 *
 * `DocumentService` asks this on every write of every service that holds blobs (create,
 * update, patch, dotted keys, multi-record writes, REST and socket alike), on the record as
 * it will be stored, so no shape of input and no derived field escapes it.
 */
import { LarderError } from '@larder/protocol';
import type { BlobStore } from '../blobs/blob-store.js';
import type { BlobMention } from '../blobs/lifecycle/blob-hashes-in-document.js';
import type { DocumentStore } from '../stores/document-store.js';
import type { Actor } from './actor.js';
import { claimedAmong } from './blob-access.js';

/** Blobs a record names, by hash. */
export type NamedBlobs = ReadonlyMap<string, BlobMention>;

const SHOWN = 5;
const STATS_AT_ONCE = 16;

export class BlobNaming {
  constructor(
    private readonly store: DocumentStore,
    readonly blobs: BlobStore,
  ) {}

  /**
   * Of `hashes`, those the actor holds and that are stored, with their stored sizes. `known`:
   * blobs the calling server code has just seen the actor upload, claim and store (with their
   * sizes), taken as held without looking them up again; never anything a client said.
   */
  async heldAmong(
    actor: Actor,
    hashes: Iterable<string>,
    known?: ReadonlyMap<string, number>,
  ): Promise<Map<string, number>> {
    const held = new Map<string, number>();
    const unknown: string[] = [];
    for (const sha256 of hashes) {
      const size = known?.get(sha256);
      if (size === undefined) unknown.push(sha256);
      else held.set(sha256, size);
    }
    if (unknown.length === 0) return held;
    const claimed = [...(await claimedAmong(this.store, actor, unknown))];
    // A few stats at once: one per hash, and on S3 each is a round trip.
    let next = 0;
    const statNext = async () => {
      while (next < claimed.length) {
        const sha256 = claimed[next++] as string;
        const info = await this.blobs.stat(sha256);
        if (info) held.set(sha256, info.size);
      }
    };
    await Promise.all(Array.from({ length: Math.min(STATS_AT_ONCE, claimed.length) }, statNext));
    return held;
  }

  /** Throws BadRequest unless every blob `after` names that `before` did not is held with its stated size. */
  static assertMayName(after: NamedBlobs, before: NamedBlobs | undefined, held: ReadonlyMap<string, number>): void {
    const missing: string[] = [];
    const wrongSize: string[] = [];
    for (const [sha256, mention] of after) {
      if (before?.has(sha256)) continue;
      const size = held.get(sha256);
      if (size === undefined) missing.push(`${mention.where} (${sha256.slice(0, 12)}…)`);
      else if (mention.size !== undefined && mention.size !== size) {
        wrongSize.push(`${mention.where} (${mention.size} declared, ${size} stored)`);
      }
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
}

function count(n: number): string {
  return n === 1 ? '1 file is' : `${n} files are`;
}

function shown(labels: readonly string[]): string {
  const head = labels.slice(0, SHOWN).join(', ');
  return labels.length > SHOWN ? `${head} and ${labels.length - SHOWN} more` : head;
}
