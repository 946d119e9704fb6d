/**
 * Moving a repository's ref to a pushed commit. The objects were uploaded as blobs before;
 * here the server walks the commits the repository does not hold yet, checks that every
 * object they need is stored and readable by the pusher, makes the repository hold those
 * objects (blob references, so garbage collection keeps them), records the commits, and
 * only then moves the ref with a compare-and-set. A push that would drop commits from the
 * ref (not a fast-forward) is refused with 409 unless forced.
 */
import { and, eq, LarderError } from '@larder/protocol';
import { ownershipPolicy } from '../../auth/access-policy.js';
import type { Actor } from '../../auth/actor.js';
import type { BlobStore } from '../../blobs/blob-store.js';
import { BlobReferences } from '../../blobs/lifecycle/blob-references.js';
import { lostAmong } from '../../blobs/lifecycle/blob-uploads.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { commitRecordId, repositoryOwner, STOCK_COMMITS, STOCK_REPOS } from './stock-names.js';
import type { StockObjectAccess } from './stock-object-access.js';
import {
  blobObjectBytes,
  readCommitObject,
  readManifestTensors,
  type StockCommitObject,
  type StockObjectBytes,
} from './stock-object-reader.js';
import type { StockPacks } from './stock-packs.js';
import { writableRepository } from './stock-repository-access.js';

export interface MoveRefRequest {
  repo: string;
  ref: string;
  commit: string;
  /** The commit the pusher saw the ref at (null: absent); the move fails if it moved since. */
  from?: string | null | undefined;
  /** Accept a move that is not a fast-forward. */
  force: boolean;
}

export interface MoveRefResult {
  repo: string;
  ref: string;
  commit: string;
  previous: string | null;
  /** Commits this push added to the repository's history, newest first. */
  recorded: string[];
  forced: boolean;
}

interface FreshCommit {
  id: string;
  commit: StockCommitObject;
  /** How many distinct objects it needs, and their stored bytes. */
  objects: number;
  bytes: number;
  /** Of its objects, those stored as blobs of their own (the rest are in the repository's packs). */
  loose: Set<string>;
}

export class StockRefMover {
  private readonly references: BlobReferences;

  constructor(
    private readonly store: DocumentStore,
    private readonly blobs: BlobStore,
    private readonly access: StockObjectAccess,
    private readonly packs: StockPacks,
  ) {
    this.references = new BlobReferences(store);
  }

  async move(actor: Actor, request: MoveRefRequest, pusher: string | null): Promise<MoveRefResult> {
    const { repo, ref, commit, force } = request;
    const repository = await writableRepository(this.store, actor, repo);
    const previous = currentRef(repository, ref);
    if (request.from !== undefined && request.from !== previous) throw movedMeanwhile(ref, previous);
    const result = { repo, ref, commit, previous, recorded: [] as string[], forced: false };
    if (previous === commit) return result;

    const fresh = await this.freshCommits(actor, repo, commit);
    if (previous !== null && !(await this.descends(repo, commit, previous, fresh))) {
      if (!force) {
        throw new LarderError(
          'Conflict',
          `Not a fast-forward: the server's "${ref}" (${previous.slice(0, 12)}) has commits that ${commit.slice(0, 12)} does not include. Pull and commit on top of it, or push with --force to replace it.`,
          { data: { ref, current: previous } },
        );
      }
      result.forced = true;
    }

    const objects = new Set<string>();
    for (const each of fresh.values()) for (const hash of each.loose) objects.add(hash);
    const added = await this.references.add(repositoryOwner(repo), objects);
    try {
      await this.confirmSurvived(objects);
      await this.record(repo, [...fresh.values()], pusher);
    } catch (error) {
      await this.references.remove(added);
      throw error;
    }

    const moved = await this.store.modify(
      STOCK_REPOS,
      and(eq(['_id'], repo), ownershipPolicy.writeFilter(actor), eq(['refs', ref], previous)),
      (record) => ({
        ...record,
        refs: { ...((record.refs ?? {}) as Record<string, string>), [ref]: commit },
        updatedAt: new Date().toISOString(),
      }),
    );
    if (moved.length === 0) {
      const now = await writableRepository(this.store, actor, repo);
      throw movedMeanwhile(ref, currentRef(now, ref));
    }
    result.recorded = [...fresh.keys()];
    return result;
  }

  /** The commits from `tip` back that the repository has not recorded, each with its objects' sizes. */
  private async freshCommits(actor: Actor, repo: string, tip: string): Promise<Map<string, FreshCommit>> {
    const fresh = new Map<string, FreshCommit>();
    const loose = blobObjectBytes(this.blobs);
    // Objects are read from the repository's packs first, else from their own blobs (which
    // `assertReadable` has checked the pusher may read before anything is parsed).
    const read: StockObjectBytes = async (hash) => (await this.packs.objectOf(repo, hash)) ?? loose(hash);
    const stack = [tip];
    while (stack.length > 0) {
      const id = stack.pop() as string;
      if (fresh.has(id) || (await this.isRecorded(repo, id))) continue;
      await this.assertReadable(actor, repo, [id], id);
      const commit = await readCommitObject(read, id);
      const manifests = Object.values(commit.tree.model ?? {});
      await this.assertReadable(actor, repo, manifests, id);
      const needed = new Set<string>([id]);
      for (const [storage, keys] of Object.entries(commit.tree)) {
        for (const hash of Object.values(keys)) {
          needed.add(hash);
          if (storage === 'model') for (const tensor of await readManifestTensors(read, hash)) needed.add(tensor);
        }
      }
      const { objects, bytes, loose: own } = await this.assertReadable(actor, repo, needed, id);
      fresh.set(id, { id, commit, objects, bytes, loose: own });
      stack.push(...commit.parents);
    }
    return fresh;
  }

  /**
   * Every hash must be in the repository's packs, or stored as a blob the pusher may read;
   * answers how many they are and their bytes (a hash is in the packs or a blob, never
   * counted twice), and which are blobs of their own.
   */
  private async assertReadable(
    actor: Actor,
    repo: string,
    hashes: Iterable<string>,
    commit: string,
  ): Promise<{ objects: number; bytes: number; loose: Set<string> }> {
    const packed = await this.packs.locate(repo, hashes);
    const rest: string[] = [];
    for (const hash of hashes) if (!packed.has(hash)) rest.push(hash);
    const readable = rest.length === 0 ? new Map<string, number>() : await this.access.readable(actor, rest);
    const missing = rest.filter((hash) => !readable.has(hash));
    if (missing.length > 0) {
      throw new LarderError(
        'Unprocessable',
        `${missing.length} of the objects commit ${commit.slice(0, 12)} needs are not on the server (or were not uploaded by you): upload them first ("larder stock push" does)`,
        { data: { missing: missing.slice(0, 100) } },
      );
    }
    let bytes = 0;
    for (const location of packed.values()) bytes += location.length;
    for (const size of readable.values()) bytes += size;
    return { objects: packed.size + readable.size, bytes, loose: new Set(readable.keys()) };
  }

  private async isRecorded(repo: string, commit: string): Promise<boolean> {
    return (await this.store.count(STOCK_COMMITS, eq(['_id'], commitRecordId(repo, commit)))) > 0;
  }

  /** Whether `ancestor` is `tip` or one of its ancestors. */
  private async descends(repo: string, tip: string, ancestor: string, fresh: Map<string, FreshCommit>) {
    const seen = new Set<string>();
    const stack = [tip];
    while (stack.length > 0) {
      const id = stack.pop() as string;
      if (id === ancestor) return true;
      if (seen.has(id)) continue;
      seen.add(id);
      const known = fresh.get(id)?.commit.parents;
      if (known) {
        stack.push(...known);
        continue;
      }
      const [record] = await this.store.find(STOCK_COMMITS, {
        filter: eq(['_id'], commitRecordId(repo, id)),
        limit: 1,
      });
      if (Array.isArray(record?.parents)) stack.push(...record.parents.map(String));
    }
    return false;
  }

  /**
   * Every object the new commits hold, once the repository's references to them are in place:
   * one a concurrent collection took (whether this push added its reference or found it
   * there) fails the push before any commit is recorded.
   */
  private async confirmSurvived(objects: ReadonlySet<string>): Promise<void> {
    const [lost] = await lostAmong(this.store, this.blobs, [...objects]);
    if (lost !== undefined) {
      throw new LarderError(
        'Unavailable',
        `Object ${lost.slice(0, 12)} was garbage-collected while this push ran: push again to upload it`,
      );
    }
  }

  private async record(repo: string, commits: FreshCommit[], pusher: string | null): Promise<void> {
    if (commits.length === 0) return;
    const pushedAt = new Date().toISOString();
    const records: StoredDocument[] = commits.map(({ id, commit, objects, bytes }) => ({
      _id: commitRecordId(repo, id),
      repo,
      commit: id,
      parents: commit.parents,
      message: commit.message,
      author: commit.author,
      time: commit.time,
      tree: Object.fromEntries(
        Object.entries(commit.tree).map(([storage, keys]) => [storage, Object.keys(keys).length]),
      ),
      objects,
      bytes,
      pushedBy: pusher,
      createdAt: pushedAt,
      updatedAt: pushedAt,
    }));
    await this.store.ensureCollection(STOCK_COMMITS);
    try {
      await this.store.insert(STOCK_COMMITS, records);
    } catch (error) {
      if (!(error instanceof LarderError && error.name === 'Conflict')) throw error;
      // A concurrent push recorded some of them: record the rest one by one.
      for (const record of records) {
        try {
          await this.store.insert(STOCK_COMMITS, [record]);
        } catch (each) {
          if (!(each instanceof LarderError && each.name === 'Conflict')) throw each;
        }
      }
    }
  }
}

function currentRef(repository: StoredDocument, ref: string): string | null {
  const refs = repository.refs as Record<string, unknown> | undefined;
  const value = refs?.[ref];
  return typeof value === 'string' ? value : null;
}

function movedMeanwhile(ref: string, now: string | null): LarderError {
  return new LarderError(
    'Conflict',
    `The server's "${ref}" moved while you pushed (it is now at ${now?.slice(0, 12) ?? 'nothing'}): pull, then push again.`,
    { data: { ref, current: now } },
  );
}
