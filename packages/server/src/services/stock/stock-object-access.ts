/**
 * Which stock objects a caller may read. A hash is not proof of holding the content, so an
 * object counts as the caller's only when it is stored and the caller either uploaded those
 * bytes (a blob claim) or may read a stock repository that holds it. Pushes ask this to
 * learn what must be uploaded, and check it again before a commit is recorded, so nobody can
 * publish (and later pull) objects they never had.
 */
import { and, eq, type Filter, or } from '@larder/protocol';
import { ownershipPolicy } from '../../auth/access-policy.js';
import { type Actor, isAllPowerful } from '../../auth/actor.js';
import { BLOB_CLAIMS_COLLECTION } from '../../auth/blob-access.js';
import type { BlobStore } from '../../blobs/blob-store.js';
import { BLOB_REFS_COLLECTION } from '../../blobs/lifecycle/blob-references.js';
import type { DocumentStore } from '../../stores/document-store.js';
import { STOCK_REPOS } from './stock-names.js';

const BATCH = 500;
const REPOSITORY_OWNER = `${STOCK_REPOS}/`;

export class StockObjectAccess {
  constructor(
    private readonly store: DocumentStore,
    private readonly blobs: BlobStore,
  ) {}

  /** The hashes among `hashes` that are stored and that `actor` may read, with their sizes. */
  async readable(actor: Actor, hashes: readonly string[]): Promise<Map<string, number>> {
    const wanted = [...new Set(hashes)];
    const granted = new Map<string, number>();
    for (let start = 0; start < wanted.length; start += BATCH) {
      const slice = wanted.slice(start, start + BATCH);
      const allowed = isAllPowerful(actor) ? slice : await this.granted(actor, slice);
      for (const hash of allowed) {
        const info = await this.blobs.stat(hash);
        if (info !== undefined) granted.set(hash, info.size);
      }
    }
    return granted;
  }

  /** Whether repository `repo` holds object `hash` (it was pushed there as part of a commit). */
  async repositoryHolds(repo: string, hash: string): Promise<boolean> {
    const id = `${hash}:${REPOSITORY_OWNER}${repo}`;
    return (await this.store.count(BLOB_REFS_COLLECTION, eq(['_id'], id))) > 0;
  }

  private async granted(actor: Actor, hashes: readonly string[]): Promise<Set<string>> {
    const allowed = new Set<string>();
    if (actor.kind !== 'user') return allowed;
    const anyHash: Filter = or(...hashes.map((hash) => eq(['sha256'], hash)));
    const claims = await this.store.find(BLOB_CLAIMS_COLLECTION, {
      filter: and(eq(['userId'], actor.user._id), anyHash),
    });
    for (const claim of claims) allowed.add(String(claim.sha256));

    const holders = new Map<string, string[]>();
    const references = await this.store.find(BLOB_REFS_COLLECTION, { filter: anyHash });
    for (const reference of references) {
      const hash = String(reference.sha256);
      const owner = String(reference.owner);
      if (allowed.has(hash) || !owner.startsWith(REPOSITORY_OWNER)) continue;
      const repo = owner.slice(REPOSITORY_OWNER.length);
      holders.set(repo, [...(holders.get(repo) ?? []), hash]);
    }
    if (holders.size === 0) return allowed;
    const repos = [...holders.keys()];
    const visible = await this.store.find(STOCK_REPOS, {
      filter: and(or(...repos.map((repo) => eq(['_id'], repo))), ownershipPolicy.readFilter(actor)),
    });
    for (const repo of visible) for (const hash of holders.get(repo._id) ?? []) allowed.add(hash);
    return allowed;
  }
}
