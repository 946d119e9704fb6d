/**
 * `/stock-repos`: stock repositories shared through the server. A repository has a `name`
 * (unique per owner), a `description`, an owner (`userId`), `public` (everyone signed in may
 * read and pull it), and `refs`, the head commit of each branch (`{ main: <commit id> }`).
 * Refs move only by pushing (`PUT /stock-refs/<repo>/<ref>`), never by editing the record.
 * Removing a repository removes its commit records and lets its objects be collected.
 */
import { and, eq, LarderError, or } from '@larder/protocol';
import { ownershipPolicy } from '../../auth/access-policy.js';
import { BlobReferences } from '../../blobs/lifecycle/blob-references.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { type DocumentParams, DocumentService } from '../documents/document-service.js';
import { assertRepositoryName, repositoryOwner, STOCK_COMMITS, STOCK_PACKS, STOCK_REPOS } from './stock-names.js';

type Id = string | number | null;

export class StockReposService extends DocumentService {
  private readonly references: BlobReferences;

  constructor(store: DocumentStore, authEnabled: boolean) {
    super({ store, collection: STOCK_REPOS, policy: ownershipPolicy, authEnabled });
    this.references = new BlobReferences(store);
  }

  override async create(data: unknown, params?: DocumentParams) {
    if (Array.isArray(data)) throw new LarderError('BadRequest', 'Create one stock repository at a time');
    const fields = this.checkFields(data, true);
    const owner = this.caller(params);
    const userId = owner.kind === 'user' ? owner.user._id : null;
    await this.assertNameFree(fields.name as string, typeof fields.userId === 'string' ? fields.userId : userId);
    return super.create({ description: '', public: false, ...fields, refs: {} }, params);
  }

  override async update(id: Id, data: unknown, params?: DocumentParams) {
    const fields = this.checkFields(data, true);
    await this.assertRenameFree(id, fields.name, params);
    return super.update(id, fields, params);
  }

  override async patch(id: Id, data: unknown, params?: DocumentParams) {
    const fields = this.checkFields(data, false);
    if (fields.name !== undefined && id === null) {
      throw new LarderError('BadRequest', 'Rename stock repositories one at a time');
    }
    await this.assertRenameFree(id, fields.name, params);
    return super.patch(id, fields, params);
  }

  override async remove(id: Id, params?: DocumentParams) {
    const removed = await super.remove(id, params);
    const repos = Array.isArray(removed) ? removed : [removed];
    if (repos.length > 0) {
      // Records first, then the references: an object is never collected while a commit names it.
      await this.store.remove(STOCK_COMMITS, or(...repos.map((repo) => eq(['repo'], repo._id))));
      await this.store.ensureCollection(STOCK_PACKS);
      await this.store.remove(STOCK_PACKS, or(...repos.map((repo) => eq(['repo'], repo._id))));
      await this.references.release(repos.map((repo) => repositoryOwner(repo._id)));
    }
    return removed;
  }

  /** Refs are the server's to keep: every write through the service carries the old ones over. */
  protected override prepareForWrite(record: StoredDocument, before: StoredDocument | undefined): StoredDocument {
    return { ...record, refs: before?.refs ?? record.refs ?? {} };
  }

  private checkFields(data: unknown, whole: boolean): Record<string, unknown> {
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new LarderError('BadRequest', 'A stock repository must be a JSON object');
    }
    const fields = data as Record<string, unknown>;
    if (Object.keys(fields).some((key) => key === 'refs' || key.startsWith('refs.'))) {
      throw new LarderError('BadRequest', 'Refs move only by pushing commits ("larder stock push"), not by editing');
    }
    if (whole || fields.name !== undefined) assertRepositoryName(fields.name);
    if (fields.description !== undefined && typeof fields.description !== 'string') {
      throw new LarderError('BadRequest', '"description" must be a string');
    }
    if (fields.public !== undefined && typeof fields.public !== 'boolean') {
      throw new LarderError('BadRequest', '"public" must be true or false');
    }
    return fields;
  }

  private async assertRenameFree(id: Id, name: unknown, params: DocumentParams | undefined): Promise<void> {
    if (typeof name !== 'string' || id === null) return;
    const current = await this.get(id, params);
    if (current.name === name) return;
    await this.assertNameFree(name, typeof current.userId === 'string' ? current.userId : null);
  }

  private async assertNameFree(name: string, userId: string | null): Promise<void> {
    const taken = await this.store.count(STOCK_REPOS, and(eq(['name'], name), eq(['userId'], userId)));
    if (taken > 0) throw new LarderError('Conflict', `You already have a stock repository named "${name}"`);
  }
}
