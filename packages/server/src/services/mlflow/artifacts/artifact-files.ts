/**
 * The records that name MLflow artifacts: one per file in `_mlflow_artifact_files`, keyed by
 * its owner (a run or a logged model) and its path, holding the content-addressed blob
 * (`sha256`, `size`). The blob is held through `BlobReferences` (owner
 * `_mlflow_artifact_files/<id>`), so the collector keeps the bytes while a record names them
 * and the same bytes logged twice are stored once. Permissions are not copied here: every
 * access goes through the owning run's or logged model's current access fields
 * (`artifact-owners.ts`), so a folder share reaches artifacts at once.
 *
 * `dirs` lists every directory above the file (`''`, `model`, `model/data`), so a listing is
 * one equality on an array field.
 */
import { createHash } from 'node:crypto';
import { and, eq, LarderError, or } from '@larder/protocol';
import type { BlobInfo, BlobStore } from '../../../blobs/blob-store.js';
import { BlobReferences, ownerOf } from '../../../blobs/lifecycle/blob-references.js';
import { survivesCollection } from '../../../blobs/lifecycle/blob-uploads.js';
import type { DocumentStore, StoredDocument } from '../../../stores/document-store.js';

export const ARTIFACT_FILES_COLLECTION = '_mlflow_artifact_files';

export interface ArtifactFile {
  path: string;
  sha256: string;
  size: number;
}

/** One entry of a listing, as MLflow's FileInfo. */
export interface ArtifactEntry {
  path: string;
  isDir: boolean;
  size?: number;
}

export class ArtifactFiles {
  private readonly references: BlobReferences;

  constructor(
    private readonly store: DocumentStore,
    private readonly blobs: BlobStore,
  ) {
    this.references = new BlobReferences(store);
  }

  /**
   * Records (or replaces) the file at `path` of `owner`: reference first, then the check that
   * no concurrent collection took the blob, record next, stale reference last.
   */
  async write(owner: string, path: string, blob: BlobInfo): Promise<void> {
    await this.assertPlaceable(owner, path);
    const id = recordId(owner, path);
    const since = Date.now();
    const added = await this.references.add(ownerOf(ARTIFACT_FILES_COLLECTION, id), [blob.sha256]);
    if (!(await survivesCollection(this.store, this.blobs, blob.sha256))) {
      await this.references.remove(added);
      throw new LarderError(
        'Unavailable',
        'The artifact was garbage-collected while it was being stored; log it again',
      );
    }
    const record: StoredDocument = {
      _id: id,
      owner,
      path,
      dirs: directoriesOf(path),
      sha256: blob.sha256,
      size: blob.size,
      at: Date.now(),
    };
    let previous: string | undefined;
    const [changed] = await this.store.modify(ARTIFACT_FILES_COLLECTION, eq(['_id'], id), (before) => {
      previous = String(before.sha256);
      return record;
    });
    if (!changed) {
      try {
        await this.store.ensureCollection(ARTIFACT_FILES_COLLECTION);
        await this.store.insert(ARTIFACT_FILES_COLLECTION, [record]);
      } catch (error) {
        if (!(error instanceof LarderError && error.name === 'Conflict')) throw error;
        // A concurrent write of the same path won the insert: last writer wins, as on a disk.
        await this.store.modify(ARTIFACT_FILES_COLLECTION, eq(['_id'], id), (before) => {
          previous = String(before.sha256);
          return record;
        });
      }
    }
    if (previous !== undefined && previous !== blob.sha256) {
      const stale = { sha256: previous, owner: ownerOf(ARTIFACT_FILES_COLLECTION, id) };
      await this.references.removeUntouchedSince([stale], since);
    }
  }

  /** The file at exactly `path`, or undefined. */
  async file(owner: string, path: string): Promise<ArtifactFile | undefined> {
    const [record] = await this.store.find(ARTIFACT_FILES_COLLECTION, {
      filter: eq(['_id'], recordId(owner, path)),
      limit: 1,
    });
    return record ? fileOf(record) : undefined;
  }

  /** Every file at or below `dir` (`''`: all), paths relative to `dir`. */
  async filesUnder(owner: string, dir: string): Promise<ArtifactFile[]> {
    const records = await this.store.find(ARTIFACT_FILES_COLLECTION, {
      filter: and(eq(['owner'], owner), eq(['dirs'], dir)),
      sort: [{ path: ['path'], direction: 1 }],
    });
    const cut = dir === '' ? 0 : dir.length + 1;
    return records.map((record) => ({ ...fileOf(record), path: String(record.path).slice(cut) }));
  }

  /** The direct children of `dir`. */
  async list(owner: string, dir: string): Promise<ArtifactEntry[]> {
    return childrenOf(await this.filesUnder(owner, dir));
  }

  /** Removes the file at `path`, or everything below it when it is a directory (`''`: all of the owner's). */
  async remove(owner: string, path: string): Promise<number> {
    const filter =
      path === ''
        ? eq(['owner'], owner)
        : and(eq(['owner'], owner), or(eq(['_id'], recordId(owner, path)), eq(['dirs'], path)));
    const since = Date.now();
    const removed = await this.store.remove(ARTIFACT_FILES_COLLECTION, filter);
    await this.references.release(
      removed.map((record) => ownerOf(ARTIFACT_FILES_COLLECTION, record._id)),
      since,
    );
    return removed.length;
  }

  /** A file may not sit where a directory is, nor below a file. */
  private async assertPlaceable(owner: string, path: string): Promise<void> {
    const above = directoriesOf(path).filter((dir) => dir !== '');
    const clash = await this.store.find(ARTIFACT_FILES_COLLECTION, {
      filter: and(
        eq(['owner'], owner),
        or(eq(['dirs'], path), ...above.map((dir) => eq(['_id'], recordId(owner, dir)))),
      ),
      limit: 1,
    });
    const [first] = clash;
    if (!first) return;
    throw new LarderError(
      'BadRequest',
      first.path === path || String(first.path).startsWith(`${path}/`)
        ? `"${path.slice(0, 200)}" is a directory of artifacts: log the file under another name`
        : `"${String(first.path).slice(0, 200)}" is a file, so it cannot hold "${path.slice(0, 200)}"`,
    );
  }
}

/** `runs/<id>` or `mlflow-logged-models/<id>`: whose artifact tree a file belongs to. */
export function artifactOwner(collection: string, id: string): string {
  return ownerOf(collection, id);
}

/** The direct children of a directory, given the files below it (paths relative to it), sorted by name. */
export function childrenOf(files: readonly ArtifactFile[]): ArtifactEntry[] {
  const entries = new Map<string, ArtifactEntry>();
  for (const file of files) {
    const slash = file.path.indexOf('/');
    if (slash < 0) entries.set(file.path, { path: file.path, isDir: false, size: file.size });
    else {
      const child = file.path.slice(0, slash);
      if (!entries.has(child)) entries.set(child, { path: child, isDir: true });
    }
  }
  return [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function recordId(owner: string, path: string): string {
  return createHash('sha256').update(owner).update('\n').update(path).digest('hex');
}

function directoriesOf(path: string): string[] {
  const segments = path.split('/');
  const dirs = [''];
  for (let end = 1; end < segments.length; end++) dirs.push(segments.slice(0, end).join('/'));
  return dirs;
}

function fileOf(record: StoredDocument): ArtifactFile {
  return { path: String(record.path), sha256: String(record.sha256), size: Number(record.size) };
}
