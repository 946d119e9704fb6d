/**
 * `POST /dataset-versions/<versionId>/archive {assetIds}`: many files of a dataset version in
 * one answer, a tar stream whose entries are named by asset id, in the order asked, with
 * an exact `Content-Length`. The SDK asks for the small files it lacks a few thousand at a
 * time (restarting asks only for those still missing) and checks each entry's SHA-256
 * as it arrives; large files keep their own ranged route (`GET /assets/<id>/file?version=`).
 *
 * Whoever may read the version may read its files (as on the file route). Every asset asked
 * for is checked before the first byte goes out: one that is not in the version, or whose
 * file is missing, is a 404 naming it, and one too large for an archive a 400 naming the
 * route to use instead.
 *
 * @example
 * curl -X POST -H 'content-type: application/json' -d '{"assetIds":["p1…","p2…"]}' \
 *      http://127.0.0.1:3030/dataset-versions/$VERSION/archive | tar x
 */
import { Readable } from 'node:stream';
import { isValidRecordId, LarderError } from '@larder/protocol';
import type { Context, Next } from 'koa';
import type { FeatureContext } from '../../app/feature.js';
import { type BlobInfo, isSha256 } from '../../blobs/blob-store.js';
import { decodePathSegment } from '../../http/path-segment.js';
import { readJsonBody } from '../../http/read-json-body.js';
import type { StoredDocument } from '../../stores/document-store.js';
import { ASSETS, anyOf, MEMBERS, memberId } from './datalake-collections.js';
import { readBlob } from './picture-inspection.js';
import { BLOCK, TAR_END, tarHeader, tarPadding } from './tar-entries.js';
import { VersionAccess } from './version-access.js';

const PATH = /^\/dataset-versions\/([^/]+)\/archive\/?$/;
/** Files per archive: a few thousand small files keep the answer short to restart. */
export const MAX_ARCHIVE_FILES = 10_000;
/** Larger files go by themselves, resumable with `Range`. */
export const MAX_ARCHIVED_FILE_BYTES = 64 * 1024 * 1024;
/** Files below this are read whole, a few ahead of the one being sent. */
const READ_AHEAD_BYTES = 1024 * 1024;
const READ_AHEAD = 32;
const LOOKUP_BATCH = 1000;

interface Entry {
  assetId: string;
  sha256: string;
  size: number;
}

export function versionArchiveRoute(context: FeatureContext) {
  const { store, blobs } = context;
  const versions = new VersionAccess(store);

  /** The entries for `assetIds`, each checked to be in the version, stored, and small enough. */
  async function entriesOf(versionId: string, assetIds: readonly string[]): Promise<Entry[]> {
    const found = new Map<string, StoredDocument>();
    for (let start = 0; start < assetIds.length; start += LOOKUP_BATCH) {
      const slice = assetIds.slice(start, start + LOOKUP_BATCH);
      const members = await store.find(MEMBERS, {
        filter: anyOf(
          '_id',
          slice.map((id) => memberId(versionId, id)),
        ),
      });
      const inVersion = members.map((member) => String(member.assetId));
      for (const asset of await store.find(ASSETS, { filter: anyOf('_id', inVersion) })) found.set(asset._id, asset);
    }
    const entries = assetIds.map((assetId) => {
      const asset = found.get(assetId);
      if (!asset || !isSha256(asset.sha256)) {
        throw new LarderError('NotFound', `Asset '${assetId}' is not a file of this dataset version`);
      }
      const size = Number(asset.size);
      // A ustar name holds 100 bytes; ids are ASCII and Larder's own are far shorter.
      if (size > MAX_ARCHIVED_FILE_BYTES || assetId.length > 100) {
        throw new LarderError(
          'BadRequest',
          `Asset '${assetId}' is over ${MAX_ARCHIVED_FILE_BYTES} bytes: fetch it by itself (GET /assets/${assetId}/file?version=${versionId})`,
        );
      }
      return { assetId, sha256: asset.sha256, size };
    });
    const infos = await Promise.all(entries.map((entry) => blobs.stat(entry.sha256)));
    infos.forEach((info: BlobInfo | undefined, index) => {
      const entry = entries[index] as Entry;
      if (!info || info.size !== entry.size) {
        throw new LarderError('NotFound', `The file of asset '${entry.assetId}' is missing from storage`);
      }
    });
    return entries;
  }

  /** The archive's bytes: small files read a few ahead, large ones streamed. */
  async function* archive(entries: readonly Entry[]): AsyncGenerator<Buffer> {
    const now = Date.now() / 1000;
    const ahead: (Promise<Buffer> | undefined)[] = [];
    const prefetch = (index: number) => {
      const entry = entries[index];
      if (entry && entry.size <= READ_AHEAD_BYTES && ahead[index] === undefined) {
        const read = readBlob(blobs, entry.sha256, entry.size);
        read.catch(() => {});
        ahead[index] = read;
      }
    };
    for (let index = 0; index < Math.min(READ_AHEAD, entries.length); index += 1) prefetch(index);
    for (const [index, entry] of entries.entries()) {
      prefetch(index + READ_AHEAD);
      yield tarHeader(entry.assetId, entry.size, now);
      const small = ahead[index];
      ahead[index] = undefined;
      if (small) yield await small;
      else if (entry.size > 0) for await (const chunk of await blobs.get(entry.sha256)) yield chunk as Buffer;
      yield tarPadding(entry.size);
    }
    yield TAR_END;
  }

  return async (ctx: Context, next: Next): Promise<void> => {
    const match = PATH.exec(ctx.path);
    if (!match) return next();
    if (ctx.method !== 'POST') {
      ctx.set('Allow', 'POST');
      throw new LarderError('MethodNotAllowed', `${ctx.method} is not supported on ${ctx.path}`);
    }
    const actor = await context.actorFor(ctx);
    const version = await versions.readable(actor, decodePathSegment(match[1] as string));
    const body = (await readJsonBody(ctx, 2 * 1024 * 1024)) as { assetIds?: unknown } | null;
    const assetIds = body?.assetIds;
    if (!Array.isArray(assetIds) || assetIds.length === 0 || !assetIds.every(isValidRecordId)) {
      throw new LarderError('BadRequest', 'Send { "assetIds": [...] }: the ids of pictures of this version');
    }
    if (assetIds.length > MAX_ARCHIVE_FILES) {
      throw new LarderError('PayloadTooLarge', `At most ${MAX_ARCHIVE_FILES} files per archive; ask for the rest next`);
    }
    if (new Set(assetIds).size !== assetIds.length) throw new LarderError('BadRequest', '"assetIds" repeats an id');
    const entries = await entriesOf(version._id, assetIds as string[]);
    ctx.status = 200;
    ctx.set('Content-Type', 'application/x-tar');
    ctx.set('Content-Length', String(archiveLength(entries)));
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = Readable.from(archive(entries), { objectMode: false });
  };
}

function archiveLength(entries: readonly Entry[]): number {
  let length = TAR_END.length;
  for (const { size } of entries) length += BLOCK + size + tarPadding(size).length;
  return length;
}
