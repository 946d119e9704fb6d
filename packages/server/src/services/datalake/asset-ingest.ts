/**
 * Many file assets made in one go (a form of a thousand pictures, an SDK batch): the caller's
 * claims looked up, the existing pictures found and merged, the new ones inspected and
 * inserted, each a few queries per batch instead of per file. Every file gets its own
 * outcome: one a caller may not name, or a name that is not a file name, fails alone and the
 * others are still made.
 *
 * @example
 * const outcomes = await ingest.run(actor, [{ sha256, filename: 'a.jpg' }], { tags: ['cat'] }, params);
 * // [{ asset: { _id: 'p…', width: 640, … } }] or [{ error: LarderError('NotFound', …) }]
 */
import { and, eachAtOnce, eq, LarderError, or } from '@larder/protocol';
import type { AccessPolicy } from '../../auth/access-policy.js';
import type { Actor } from '../../auth/actor.js';
import { claimedAmong } from '../../auth/blob-access.js';
import { type BlobInfo, type BlobStore, isSha256 } from '../../blobs/blob-store.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import type { DocumentParams } from '../documents/document-service.js';
import { pictureAssetId } from './asset-ids.js';
import { ASSETS } from './datalake-collections.js';
import { cleanFileName, optionalText, parseTags } from './datalake-names.js';
import { inspectFile } from './picture-inspection.js';

export interface IngestFile {
  sha256: unknown;
  filename: unknown;
  tags?: unknown;
  source?: unknown;
  /** Other fields the client gave the record (kept on a new asset). */
  extra?: Record<string, unknown>;
  /** The file's first bytes, when they were kept as it was received. */
  head?: Buffer;
  /**
   * The size this very request stored the bytes with, once the upload was confirmed to stay
   * (`readMultipartForm`): the blob is then not looked up again. Set by the server only,
   * never from a client's fields.
   */
  uploadedSize?: number;
}

export type IngestOutcome = { asset: StoredDocument; error?: undefined } | { error: LarderError; asset?: undefined };

interface Checked {
  index: number;
  id: string;
  sha256: string;
  filename: string;
  tags: string[];
  source: string;
  extra: Record<string, unknown>;
  head: Buffer | undefined;
  uploadedSize: number | undefined;
}

export interface IngestPorts {
  store: DocumentStore;
  blobs: BlobStore;
  policy: AccessPolicy;
  /** The service's own create (stamping, the blob-naming check, references, insert). */
  insert: (records: Record<string, unknown>[], params?: DocumentParams) => Promise<StoredDocument[]>;
  shown: (record: StoredDocument, params?: DocumentParams) => StoredDocument;
}

const BATCH = 500;
const AT_ONCE = 16;

export async function ingestFiles(
  ports: IngestPorts,
  actor: Actor,
  files: readonly IngestFile[],
  params?: DocumentParams,
): Promise<IngestOutcome[]> {
  const outcomes: IngestOutcome[] = new Array(files.length);
  const checked: Checked[] = [];
  files.forEach((file, index) => {
    try {
      checked.push(checkFile(actor, file, index));
    } catch (error) {
      outcomes[index] = { error: asLarderError(error) };
    }
  });
  for (let start = 0; start < checked.length; start += BATCH) {
    const slice = checked.slice(start, start + BATCH);
    for (let attempt = 0; ; attempt += 1) {
      try {
        await ingestBatch(ports, actor, slice, outcomes, params);
        break;
      } catch (error) {
        // Another upload of the same bytes inserted first: the next round merges into it.
        if (!(error instanceof LarderError && error.name === 'Conflict') || attempt >= 3) throw error;
      }
    }
  }
  return outcomes;
}

function checkFile(actor: Actor, file: IngestFile, index: number): Checked {
  const { sha256 } = file;
  if (!isSha256(sha256)) {
    throw new LarderError('BadRequest', '"sha256" must be the 64 lower-case hex digits of an uploaded blob');
  }
  return {
    index,
    id: pictureAssetId(actor, sha256),
    sha256,
    filename: cleanFileName(file.filename),
    tags: parseTags(file.tags),
    source: optionalText(file.source, '"source"', 200) ?? 'api',
    extra: file.extra ?? {},
    head: file.head,
    uploadedSize: file.uploadedSize,
  };
}

async function ingestBatch(
  ports: IngestPorts,
  actor: Actor,
  files: readonly Checked[],
  outcomes: IngestOutcome[],
  params?: DocumentParams,
): Promise<void> {
  const { store } = ports;
  const claimed = await claimedAmong(
    store,
    actor,
    files.map((file) => file.sha256),
  );
  // A blob this request uploaded and confirmed is known; only the others are looked up.
  const known = new Map<string, BlobInfo>();
  for (const { sha256, uploadedSize } of files) {
    if (uploadedSize !== undefined && claimed.has(sha256)) known.set(sha256, { sha256, size: uploadedSize });
  }
  const stored = await statAll(
    ports.blobs,
    [...claimed].filter((sha256) => !known.has(sha256)),
  );
  for (const [sha256, info] of known) stored.set(sha256, info);
  const usable: Checked[] = [];
  for (const file of files) {
    if (stored.has(file.sha256)) usable.push(file);
    else {
      outcomes[file.index] = {
        error: new LarderError('NotFound', `No blob ${file.sha256} that you uploaded; upload the file first`),
      };
    }
  }
  // The same bytes twice in one batch are one asset, with both names and all tags.
  const byId = new Map<string, Checked[]>();
  for (const file of usable) byId.set(file.id, [...(byId.get(file.id) ?? []), file]);
  if (byId.size === 0) return;
  const idFilter = or(...[...byId.keys()].map((id) => eq(['_id'], id)));
  const existing = new Set((await store.find(ASSETS, { filter: idFilter })).map((asset) => asset._id));

  const answers = new Map<string, StoredDocument>();
  if (existing.size > 0) {
    const now = new Date().toISOString();
    const mergeFilter = or(...[...existing].map((id) => eq(['_id'], id)));
    const merged = await store.modify(ASSETS, and(mergeFilter, ports.policy.writeFilter(actor)), (asset) =>
      mergedAsset(asset, byId.get(asset._id) ?? [], now),
    );
    for (const { after } of merged) answers.set(after._id, ports.shown(after, params));
  }

  const fresh = [...byId.entries()].filter(([id]) => !existing.has(id));
  const records = await eachAtOnce(fresh, AT_ONCE, async ([id, group]) => {
    const first = group[0] as Checked;
    const info = stored.get(first.sha256) as BlobInfo;
    const facts = await inspectFile(ports.blobs, info, first.filename, first.head);
    const filenames = [...new Set(group.map((file) => file.filename))];
    const tags = [...new Set(group.flatMap((file) => file.tags))];
    return {
      ...first.extra,
      _id: id,
      sha256: first.sha256,
      size: info.size,
      filename: first.filename,
      filenames,
      tags,
      source: first.source,
      ...facts,
    };
  });
  if (records.length > 0) for (const asset of await ports.insert(records, params)) answers.set(asset._id, asset);

  for (const [id, group] of byId) {
    const asset = answers.get(id);
    const outcome: IngestOutcome = asset
      ? { asset }
      : { error: new LarderError('Forbidden', 'You may read but not change this picture') };
    for (const file of group) outcomes[file.index] = outcome;
  }
}

/** The existing asset with the batch's new tags and file names (at most 100 names kept). */
function mergedAsset(asset: StoredDocument, group: readonly Checked[], now: string): StoredDocument {
  const currentTags = Array.isArray(asset.tags) ? (asset.tags as string[]) : [];
  const names = Array.isArray(asset.filenames) ? (asset.filenames as string[]) : [String(asset.filename)];
  const nextTags = [...new Set([...currentTags, ...group.flatMap((file) => file.tags)])];
  const nextNames = [...new Set([...names, ...group.map((file) => file.filename)])].slice(-100);
  if (nextTags.length === currentTags.length && nextNames.length === names.length) return asset;
  return { ...asset, tags: nextTags, filenames: nextNames, updatedAt: now };
}

async function statAll(blobs: BlobStore, hashes: readonly string[]): Promise<Map<string, BlobInfo>> {
  const infos = await eachAtOnce(hashes, AT_ONCE, (sha256) => blobs.stat(sha256));
  const found = new Map<string, BlobInfo>();
  for (const info of infos) if (info) found.set(info.sha256, info);
  return found;
}

function asLarderError(error: unknown): LarderError {
  if (error instanceof LarderError) return error;
  throw error;
}
