/**
 * `/folders`: the folder hierarchy as records. `create({ path, makeParents })` makes a folder
 * (the caller's home is made on first use); `patch(id, { shares })` lets the owner share a
 * folder, and everything in it, with users and organisations for reading or writing;
 * `remove` refuses a folder that still holds anything.
 */
import { eq, LarderError, or } from '@larder/protocol';
import { folderPolicy } from '../../auth/folder-policy.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import type { DocumentParams } from '../documents/document-service.js';
import { DocumentService } from '../documents/document-service.js';
import { homeOf, parentOf, resolveFolderPath } from './folder-paths.js';
import { FOLDERS_COLLECTION, type FolderRecord, type FolderShare, FolderTree } from './folder-tree.js';

type Id = string | number | null;

const PRINCIPAL = /^(user|org):[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

export class FoldersService extends DocumentService {
  readonly tree: FolderTree;

  /** @param heldIn collections whose records live in folders (runs, artifacts…), for sharing and removal */
  constructor(
    store: DocumentStore,
    authEnabled: boolean,
    private readonly heldIn: readonly string[],
  ) {
    super({ store, collection: FOLDERS_COLLECTION, policy: folderPolicy, authEnabled });
    this.tree = new FolderTree(store);
  }

  override async create(data: unknown, params?: DocumentParams): Promise<StoredDocument> {
    const actor = this.actor(params);
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new LarderError('BadRequest', 'Create a folder with { "path": "/<you>/a/b", "makeParents": true }');
    }
    const { path, makeParents } = data as { path?: unknown; makeParents?: unknown };
    const absolute = resolveFolderPath(path, homeOf(actor));
    const parent = parentOf(absolute);
    if (parent) await this.tree.ensure(parent, actor, makeParents === true);
    return this.tree.ensure(absolute, actor, true);
  }

  override async update(): Promise<StoredDocument> {
    throw new LarderError('MethodNotAllowed', 'Folders are changed with patch ({ shares, description })');
  }

  override async patch(id: Id, data: unknown, params?: DocumentParams): Promise<StoredDocument> {
    if (id === null) throw new LarderError('BadRequest', 'Patch one folder at a time');
    const actor = this.actor(params);
    const { shares, description, ...rest } = (data ?? {}) as { shares?: unknown; description?: unknown };
    if (Object.keys(rest).length > 0) {
      throw new LarderError(
        'BadRequest',
        `Only "shares" and "description" of a folder can change (not ${Object.keys(rest).join(', ')})`,
      );
    }
    if (description !== undefined && typeof description !== 'string') {
      throw new LarderError('BadRequest', '"description" must be a string');
    }
    const validShares = shares === undefined ? undefined : validateShares(shares);
    const folder = (await this.get(id, params)) as FolderRecord;
    const owner = actor.kind === 'user' && (actor.user.role === 'admin' || actor.user._id === folder.userId);
    if (!owner && actor.kind === 'user')
      throw new LarderError('Forbidden', `Only the owner of ${folder.path} can change it`);
    const [changed] = await this.store.modify(FOLDERS_COLLECTION, eq(['_id'], folder._id), (record) => ({
      ...record,
      ...(validShares ? { shares: validShares as unknown as StoredDocument[] } : {}),
      ...(description !== undefined ? { description } : {}),
      updatedAt: new Date().toISOString(),
    }));
    if (validShares) await this.tree.propagate(folder.path, this.heldIn);
    return (await this.tree.get(folder.path)) ?? (changed?.after as StoredDocument);
  }

  override async remove(id: Id, params?: DocumentParams): Promise<StoredDocument> {
    if (id === null) throw new LarderError('BadRequest', 'Remove one folder at a time');
    const folder = (await this.get(id, params)) as FolderRecord;
    for (const collection of [FOLDERS_COLLECTION, ...this.heldIn]) {
      const held = await this.store.count(collection, or(eq(['ancestors'], folder.path), eq(['folder'], folder.path)));
      if (held > 0) {
        throw new LarderError(
          'Conflict',
          `${folder.path} is not empty (it holds ${collection}); remove or move those first`,
        );
      }
    }
    return (await super.remove(id, params)) as StoredDocument;
  }
}

function validateShares(value: unknown): FolderShare[] {
  if (!Array.isArray(value) || value.length > 200) {
    throw new LarderError(
      'BadRequest',
      '"shares" is a list (at most 200) of { principal: "org:<id>" | "user:<id>", access: "read" | "write" }',
    );
  }
  return value.map((share, index) => {
    const { principal, access } = (share ?? {}) as { principal?: unknown; access?: unknown };
    if (typeof principal !== 'string' || !PRINCIPAL.test(principal) || (access !== 'read' && access !== 'write')) {
      throw new LarderError(
        'BadRequest',
        `Share ${index} must be { principal: "org:<id>" | "user:<id>", access: "read" | "write" }`,
      );
    }
    return { principal, access };
  });
}
