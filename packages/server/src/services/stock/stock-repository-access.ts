/**
 * The permission checks on a stock repository, by the documents' ownership policy: its owner
 * reads and writes it, `public: true` lets every signed-in user read (pull) it. A repository
 * the caller may not read answers 404, one they may read but not change answers 403.
 */
import { and, eq, LarderError } from '@larder/protocol';
import { ownershipPolicy } from '../../auth/access-policy.js';
import type { Actor } from '../../auth/actor.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { STOCK_REPOS } from './stock-names.js';

/** The repository, or NotFound when `actor` may not read it (existence is not leaked). */
export async function readableRepository(store: DocumentStore, actor: Actor, repo: string): Promise<StoredDocument> {
  const [repository] = await store.find(STOCK_REPOS, {
    filter: and(eq(['_id'], repo), ownershipPolicy.readFilter(actor)),
    limit: 1,
  });
  if (!repository) throw new LarderError('NotFound', `No stock repository ${repo.slice(0, 80)} that you may read`);
  return repository;
}

/** The repository, or NotFound / Forbidden when `actor` may not push to it. */
export async function writableRepository(store: DocumentStore, actor: Actor, repo: string): Promise<StoredDocument> {
  const repository = await readableRepository(store, actor, repo);
  const writable = await store.count(STOCK_REPOS, and(eq(['_id'], repo), ownershipPolicy.writeFilter(actor)));
  if (writable === 0) {
    throw new LarderError('Forbidden', `You may pull from stock repository "${repository.name}" but not push to it`);
  }
  return repository;
}
