/**
 * Many file assets made in one go (a form of a thousand pictures, an SDK batch): the caller's
 * claims looked up, the existing pictures found and merged, the new ones inspected and
 * inserted, each a few queries per batch instead of per file. Every file gets its own
 * outcome: one a caller may not name, or a name that is not a file name, fails alone and the
 * others are still made.
 *
 * Per file, only what is not known already is asked: the files of a form were stored, claimed
 * and sized by the same request, so they need no claim query and no stat; the blob-naming
 * check is asked per record first (one a caller may not make fails alone), and the create,
 * which checks again as for any caller, is told what is known held so it looks nothing up;
 * a picture the batch adds no tag or name to is answered as it is, without a write.
 *
 * A form's files come with no upload row (`uploadUnrecorded`): a new picture holds its bytes
 * by its reference, added before the blob is checked against a concurrent collection and
 * before anything reads it, and the others' uploads are recorded at the end.
 *
 * @example
 * const outcomes = await ingest.run(actor, [{ sha256, filename: 'a.jpg' }], { tags: ['cat'] }, params);
 * // [{ asset: { _id: 'p…', width: 640, … } }] or [{ error: LarderError('NotFound', …) }]
 */
import { randomUUID } from 'node:crypto';
import { and, eachAtOnce, eq, LarderError, matchFilter, or } from '@larder/protocol';
import type { AccessPolicy } from '../../auth/access-policy.js';
import type { Actor } from '../../auth/actor.js';
import { claimedAmong } from '../../auth/blob-access.js';
import { BlobNaming } from '../../auth/blob-naming.js';
import { type BlobInfo, type BlobStore, isSha256 } from '../../blobs/blob-store.js';
import type { BlobMention } from '../../blobs/lifecycle/blob-hashes-in-document.js';
import { BlobReferences, ownerOf } from '../../blobs/lifecycle/blob-references.js';
import {
  collectedWhileUploading,
  confirmUploads,
  lastDeletion,
  lostAmong,
} from '../../blobs/lifecycle/blob-uploads.js';
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
   * The size this very request stored and claimed the bytes with (`readMultipartForm`), its
   * upload recorded or, with `uploadUnrecorded`, left to the ingest: the claim and the size
   * are then not looked up again. Set by the server only, never from a client's fields.
   */
  uploadedSize?: number;
  /**
   * With `uploadedSize`: the request stored the bytes but recorded no upload
   * (`readMultipartForm`'s `recordUploads: false`). A new asset then holds the blob by its
   * reference, added before the blob is checked against a concurrent collection
   * (`lostAmong`); every other file's upload is recorded here. Should the ingest throw, the
   * caller records them all (`confirmUploads`).
   */
  uploadUnrecorded?: boolean;
  /** With `uploadUnrecorded`: the last deletion's token read before the bytes were stored (`lostAmong`). */
  deletionBefore?: string;
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
  uploadUnrecorded: boolean;
  deletionBefore: string | undefined;
}

/** This request's blobs that no upload row keeps (see `IngestFile.uploadUnrecorded`). */
interface Unrecorded {
  hashes: ReadonlySet<string>;
  /** Held by a new asset's reference, checked after it was added. */
  held: Set<string>;
  /** Taken by a collection before the reference was seen. */
  lost: Set<string>;
}

export interface IngestPorts {
  store: DocumentStore;
  blobs: BlobStore;
  policy: AccessPolicy;
  /**
   * The service's own create, as the caller (its checks, timestamps, references, one insert),
   * told the blobs the ingest knows the caller holds, so that its naming check looks none up.
   */
  insert: (
    records: Record<string, unknown>[],
    params: DocumentParams | undefined,
    heldBlobs: ReadonlyMap<string, number>,
  ) => Promise<StoredDocument[]>;
  shown: (record: StoredDocument, params?: DocumentParams) => StoredDocument;
  /** The blobs a record names, as the service reads them (its `blobsNamedBy`). */
  namedBy: (record: unknown) => Map<string, BlobMention>;
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
  const unrecorded: Unrecorded = {
    hashes: new Set(checked.filter((file) => file.uploadUnrecorded).map((file) => file.sha256)),
    held: new Set(),
    lost: new Set(),
  };
  for (let start = 0; start < checked.length; start += BATCH) {
    const slice = checked.slice(start, start + BATCH);
    for (let attempt = 0; ; attempt += 1) {
      try {
        await ingestBatch(ports, actor, slice, outcomes, unrecorded, params);
        break;
      } catch (error) {
        // Another upload of the same bytes inserted first: the next round merges into it.
        if (!(error instanceof LarderError && error.name === 'Conflict') || attempt >= 3) throw error;
      }
    }
  }
  await recordTheRest(ports, files, outcomes, unrecorded);
  return outcomes;
}

/**
 * The uploads of this request's blobs that no new asset holds (merged into an existing one,
 * refused, a bad name) are recorded, so that they keep their grace period as any upload
 * does; one a collection took meanwhile fails.
 */
async function recordTheRest(
  ports: IngestPorts,
  files: readonly IngestFile[],
  outcomes: IngestOutcome[],
  unrecorded: Unrecorded,
): Promise<void> {
  const rest = new Set<string>();
  for (const file of files) {
    const { sha256 } = file;
    if (file.uploadUnrecorded && isSha256(sha256) && !unrecorded.held.has(sha256) && !unrecorded.lost.has(sha256)) {
      rest.add(sha256);
    }
  }
  if (rest.size === 0) return;
  const lost = await confirmUploads(ports.store, ports.blobs, rest);
  files.forEach((file, index) => {
    if (typeof file.sha256 === 'string' && lost.has(file.sha256))
      outcomes[index] = { error: collectedWhileUploading() };
  });
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
    uploadUnrecorded: file.uploadUnrecorded === true && file.uploadedSize !== undefined,
    deletionBefore: typeof file.deletionBefore === 'string' ? file.deletionBefore : undefined,
  };
}

async function ingestBatch(
  ports: IngestPorts,
  actor: Actor,
  files: readonly Checked[],
  outcomes: IngestOutcome[],
  unrecorded: Unrecorded,
  params?: DocumentParams,
): Promise<void> {
  const { store } = ports;
  const ids = [...new Set(files.map((file) => file.id))];
  // Read before the blobs not uploaded by this request are looked up: with the uploaded ones'
  // tokens, the create checks every blob against a concurrent collection without a stat each.
  const batchDeletion = await lastDeletion(store);
  const found = await store.find(ASSETS, { filter: or(...ids.map((id) => eq(['_id'], id))) });
  const stored = await storedSizes(ports, actor, files, found);
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
  const existing = new Set(found.map((asset) => asset._id));

  const answers = new Map<string, StoredDocument>();
  const refused = new Map<string, LarderError>();
  const merging = found.filter((asset) => byId.has(asset._id));
  await mergeExisting(ports, actor, merging, byId, answers, params);

  const referencesAddedBy = randomUUID();
  const lost = await holdUnrecorded(
    ports,
    [...byId.entries()].filter(([id]) => !existing.has(id)),
    unrecorded,
    referencesAddedBy,
  );
  for (const id of lost) refused.set(id, collectedWhileUploading());
  const fresh = [...byId.entries()].filter(([id]) => !existing.has(id) && !lost.has(id));
  const made = await eachAtOnce(fresh, AT_ONCE, async ([id, group]) => {
    const first = group[0] as Checked;
    const size = stored.get(first.sha256) as number;
    const facts = await inspectFile(ports.blobs, { sha256: first.sha256, size }, first.filename, first.head);
    const filenames = [...new Set(group.map((file) => file.filename))];
    const tags = [...new Set(group.flatMap((file) => file.tags))];
    const record: Record<string, unknown> = {
      ...first.extra,
      _id: id,
      sha256: first.sha256,
      size,
      filename: first.filename,
      filenames,
      tags,
      source: first.source,
      ...facts,
    };
    ports.policy.stampOnCreate(actor, record);
    return record;
  });
  const { records, held } = await namable(ports, actor, made, stored, refused);
  await recordRefused(ports, made, records, unrecorded);
  if (records.length > 0) {
    const tokens = new Set(
      usable.map((file) => (file.uploadedSize === undefined ? batchDeletion : file.deletionBefore)),
    );
    const deletionBefore = tokens.size === 1 ? [...tokens][0] : undefined;
    const insertParams = { ...params, deletionBefore, referencesAddedBy };
    for (const asset of await ports.insert(records, insertParams, held)) answers.set(asset._id, asset);
  }

  for (const [id, group] of byId) {
    const asset = answers.get(id);
    const outcome: IngestOutcome = asset
      ? { asset }
      : { error: refused.get(id) ?? new LarderError('Forbidden', 'You may read but not change this picture') };
    for (const file of group) outcomes[file.index] = outcome;
  }
}

/**
 * The stored size of each blob of the batch the actor may name. A file this very request
 * stored and confirmed (`uploadedSize`) needs no look-up: the request recorded its claim
 * and knows its size. The others need a claim; their size is then the existing picture's
 * (whose reference keeps the bytes stored), or else the blob store's.
 */
async function storedSizes(
  ports: IngestPorts,
  actor: Actor,
  files: readonly Checked[],
  found: readonly StoredDocument[],
): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const { sha256, uploadedSize } of files) if (uploadedSize !== undefined) sizes.set(sha256, uploadedSize);
  const others = files.filter((file) => !sizes.has(file.sha256)).map((file) => file.sha256);
  if (others.length === 0) return sizes;
  const claimed = await claimedAmong(ports.store, actor, others);
  const pictured = new Map<string, number>();
  for (const asset of found) {
    if (typeof asset.sha256 === 'string' && typeof asset.size === 'number') pictured.set(asset.sha256, asset.size);
  }
  const unknown: string[] = [];
  for (const sha256 of claimed) {
    const size = pictured.get(sha256);
    if (size === undefined) unknown.push(sha256);
    else sizes.set(sha256, size);
  }
  for (const [sha256, info] of await statAll(ports.blobs, unknown)) sizes.set(sha256, info.size);
  return sizes;
}

/**
 * Merges the batch's names and tags into the pictures that exist already. One the batch
 * changes nothing in (the same folder uploaded again) is answered as it is, without a write;
 * one the actor may not change stays out of `answers` (Forbidden).
 */
async function mergeExisting(
  ports: IngestPorts,
  actor: Actor,
  found: readonly StoredDocument[],
  byId: ReadonlyMap<string, readonly Checked[]>,
  answers: Map<string, StoredDocument>,
  params: DocumentParams | undefined,
): Promise<void> {
  const writable = ports.policy.writeFilter(actor);
  const now = new Date().toISOString();
  const changing: string[] = [];
  for (const asset of found) {
    if (!matchFilter(asset, writable)) continue;
    if (mergedAsset(asset, byId.get(asset._id) ?? [], now) === asset)
      answers.set(asset._id, ports.shown(asset, params));
    else changing.push(asset._id);
  }
  if (changing.length === 0) return;
  const mergeFilter = or(...changing.map((id) => eq(['_id'], id)));
  const merged = await ports.store.modify(ASSETS, and(mergeFilter, writable), (asset) =>
    mergedAsset(asset, byId.get(asset._id) ?? [], now),
  );
  for (const { after } of merged) answers.set(after._id, ports.shown(after, params));
}

/**
 * The new records that may name every blob they name, asked of the same check the create
 * applies (`blob-naming.ts`) so that one that may not fails alone, in `refused`, rather than
 * failing the batch in the create: their own bytes are known held (`stored`), any other blob
 * a client field names is looked up. The create checks again, from `held`, looking nothing up.
 */
async function namable(
  ports: IngestPorts,
  actor: Actor,
  records: readonly Record<string, unknown>[],
  stored: ReadonlyMap<string, number>,
  refused: Map<string, LarderError>,
): Promise<{ records: Record<string, unknown>[]; held: ReadonlyMap<string, number> }> {
  const named = records.map((record) => ports.namedBy(record));
  const held = await new BlobNaming(ports.store, ports.blobs).heldAmong(
    actor,
    named.flatMap((each) => [...each.keys()]),
    stored,
  );
  const namable = records.filter((record, at) => {
    try {
      BlobNaming.assertMayName(named[at] as Map<string, BlobMention>, undefined, held);
      return true;
    } catch (error) {
      refused.set(String(record._id), asLarderError(error));
      return false;
    }
  });
  return { records: namable, held };
}

/**
 * The new pictures whose blob this request stored without an upload row get their reference
 * now, before their blob is checked (`lostAmong`), read for its size or written: a collector
 * either sees the reference or has deleted the blob already, which the check then finds, and
 * that picture is not made (no asset ever names a collected blob). Answers the ids of those
 * lost so. The create finds the references present and adds none.
 */
async function holdUnrecorded(
  ports: IngestPorts,
  fresh: readonly [id: string, group: readonly Checked[]][],
  unrecorded: Unrecorded,
  writer: string,
): Promise<Set<string>> {
  const holding = fresh.filter(([, group]) => unrecorded.hashes.has((group[0] as Checked).sha256));
  const wanted = holding.map(([id, group]) => ({ sha256: (group[0] as Checked).sha256, owner: ownerOf(ASSETS, id) }));
  if (wanted.length === 0) return new Set();
  // One token for all, when every file of the batch read the same one (one form's do).
  const tokens = new Set(holding.flatMap(([, group]) => group.map((file) => file.deletionBefore)));
  const deletionBefore = tokens.size === 1 ? [...tokens][0] : undefined;
  const references = new BlobReferences(ports.store);
  await references.addAll(wanted, { writer });
  const lost = await lostAmong(
    ports.store,
    ports.blobs,
    wanted.map((reference) => reference.sha256),
    deletionBefore,
  );
  for (const { sha256 } of wanted) (lost.has(sha256) ? unrecorded.lost : unrecorded.held).add(sha256);
  // A lost picture's reference is left for the collector to drop once no record holds it: a
  // concurrent upload of the same bytes by the same caller names the same reference, and
  // may have found it present and added none of its own.
  return new Set(fresh.filter(([, group]) => lost.has((group[0] as Checked).sha256)).map(([id]) => id));
}

/**
 * The pictures the naming check refused have their upload recorded, so that their bytes keep
 * the grace period any upload has. Their reference stays, for the reason `holdUnrecorded`
 * gives: the collector drops it once it is older than the grace period and no record holds it.
 */
async function recordRefused(
  ports: IngestPorts,
  made: readonly Record<string, unknown>[],
  kept: readonly Record<string, unknown>[],
  unrecorded: Unrecorded,
): Promise<void> {
  const keptIds = new Set(kept.map((record) => record._id));
  const refused = made
    .filter((record) => !keptIds.has(record._id) && unrecorded.held.has(record.sha256 as string))
    .map((record) => record.sha256 as string);
  if (refused.length === 0) return;
  await confirmUploads(ports.store, ports.blobs, refused);
  for (const sha256 of refused) unrecorded.held.delete(sha256);
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
