/**
 * The folder hierarchy in the `folders` collection: finding, creating on demand and sharing
 * folders, and placing records in them. A folder record carries its owner, its shares and
 * the access lists every record under it inherits (`folder-policy.ts`).
 *
 * Creating a folder needs write access to its parent; a user's home (`/<email>`) is
 * created on first use by its owner. Folder ids derive from their path, so instances that
 * create the same folder at once end with one record.
 */
import { createHash } from 'node:crypto';
import { eq, LarderError, matchFilter } from '@larder/protocol';
import type { Actor } from '../../auth/actor.js';
import { type AccessLists, folderPolicy, mergeAccess } from '../../auth/folder-policy.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { baseName, folderChain, homeOf, parentOf } from './folder-paths.js';

export const FOLDERS_COLLECTION = 'folders';

export type ShareAccess = 'read' | 'write';

export type FolderShare = {
  /** `user:<id>` or `org:<id>`. */
  principal: string;
  access: ShareAccess;
};

export type FolderRecord = {
  _id: string;
  path: string;
  name: string;
  parent: string | null;
  /** Strict ancestors, root first. */
  ancestors: string[];
  userId?: string;
  shares: FolderShare[];
  access: AccessLists;
  createdAt?: string;
  updatedAt?: string;
  description?: string;
};

/** What a record placed in a folder carries. */
export interface Placement {
  folder: string;
  /** The folder and its ancestors: everything whose sharing reaches the record. */
  ancestors: string[];
  access: AccessLists;
}

const NO_ACCESS: AccessLists = { readers: [], writers: [] };

export function folderId(path: string): string {
  return `f${createHash('sha256').update(path).digest('hex').slice(0, 40)}`;
}

/** The access lists a folder grants: its parent's, its owner's and its own shares. */
export function folderAccess(parent: AccessLists | undefined, owner: string | undefined, shares: FolderShare[]) {
  return mergeAccess(
    parent ?? NO_ACCESS,
    { readers: [], writers: owner ? [`user:${owner}`] : [] },
    {
      readers: shares.filter((share) => share.access === 'read').map((share) => share.principal),
      writers: shares.filter((share) => share.access === 'write').map((share) => share.principal),
    },
  );
}

export class FolderTree {
  constructor(private readonly store: DocumentStore) {}

  async get(path: string): Promise<FolderRecord | undefined> {
    const [record] = await this.store.find(FOLDERS_COLLECTION, { filter: eq(['_id'], folderId(path)), limit: 1 });
    return record as unknown as FolderRecord | undefined;
  }

  /**
   * The folder at `path`, created (with missing parents when `make`) if need be. Fails with
   * NotFound when it (or a parent) does not exist or cannot be seen, Forbidden when the
   * caller may see it but not add to it.
   */
  async ensure(path: string, actor: Actor, make: boolean): Promise<FolderRecord> {
    const chain = folderChain(path);
    const records = await Promise.all(chain.map((each) => this.get(each)));
    // Only the deepest existing folder matters: a folder shared with you may sit in a home
    // you cannot see.
    let deepest = records.length - 1;
    while (deepest >= 0 && !records[deepest]) deepest -= 1;
    let parent = deepest >= 0 ? (records[deepest] as FolderRecord) : undefined;
    if (parent && !matchFilter(parent, folderPolicy.readFilter(actor))) {
      throw new LarderError('NotFound', `No folder ${path} that you may see`);
    }
    for (let index = deepest + 1; index < chain.length; index += 1) {
      const current = chain[index] as string;
      const ownHome = index === 0 && current === homeOf(actor);
      if (!ownHome && !(make && parent)) {
        const hint = parent ? '; pass makeFolder to create it' : '';
        throw new LarderError('NotFound', `No folder ${current} that you may see${hint}`);
      }
      if (parent && !this.mayWrite(parent, actor)) {
        throw new LarderError('Forbidden', `You may not create folders in ${parent.path}`);
      }
      parent = await this.create(current, parent, actor);
    }
    const folder = parent as FolderRecord;
    if (!this.mayWrite(folder, actor)) throw new LarderError('Forbidden', `You may read but not add to ${folder.path}`);
    return folder;
  }

  /** Where a record goes: the folder (created as asked) and what the record inherits from it. */
  async place(path: string, actor: Actor, make: boolean): Promise<Placement> {
    const folder = await this.ensure(path, actor, make);
    return { folder: folder.path, ancestors: [...folder.ancestors, folder.path], access: folder.access };
  }

  /** A top-level folder owned by `owner` and shared as given (an organisation's home). */
  async createRoot(path: string, owner: string, shares: FolderShare[]): Promise<FolderRecord> {
    const existing = await this.get(path);
    if (existing) throw new LarderError('Conflict', `The folder ${path} already exists`);
    const now = new Date().toISOString();
    const record: FolderRecord = {
      _id: folderId(path),
      path,
      name: baseName(path),
      parent: null,
      ancestors: [],
      userId: owner,
      shares,
      access: folderAccess(undefined, owner, shares),
      createdAt: now,
      updatedAt: now,
    };
    await this.store.ensureCollection(FOLDERS_COLLECTION);
    await this.store.insert(FOLDERS_COLLECTION, [record as unknown as StoredDocument]);
    return record;
  }

  mayWrite(folder: FolderRecord, actor: Actor): boolean {
    return matchFilter(folder, folderPolicy.writeFilter(actor));
  }

  private async create(path: string, parent: FolderRecord | undefined, actor: Actor): Promise<FolderRecord> {
    const owner = actor.kind === 'user' ? actor.user._id : undefined;
    const now = new Date().toISOString();
    const record: FolderRecord = {
      _id: folderId(path),
      path,
      name: baseName(path),
      parent: parentOf(path) ?? null,
      ancestors: parent ? [...parent.ancestors, parent.path] : [],
      ...(owner ? { userId: owner } : {}),
      shares: [],
      access: folderAccess(parent?.access, owner, []),
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.store.ensureCollection(FOLDERS_COLLECTION);
      await this.store.insert(FOLDERS_COLLECTION, [record as unknown as StoredDocument]);
      return record;
    } catch (error) {
      if (!(error instanceof LarderError && error.name === 'Conflict')) throw error;
      return (await this.get(path)) as FolderRecord;
    }
  }

  /**
   * Recomputes the access lists of `path`'s folder, the folders below it and every record
   * in `collections` under it, after its shares changed.
   */
  async propagate(path: string, collections: readonly string[]): Promise<void> {
    const top = await this.get(path);
    if (!top) return;
    const parent = top.parent ? await this.get(top.parent) : undefined;
    const below = (await this.store.find(FOLDERS_COLLECTION, {
      filter: eq(['ancestors'], path),
    })) as unknown as FolderRecord[];
    const access = new Map<string, AccessLists>();
    for (const folder of [top, ...below.sort((a, b) => a.ancestors.length - b.ancestors.length)]) {
      const inherited = folder.parent
        ? (access.get(folder.parent) ?? (folder === top ? parent?.access : undefined))
        : undefined;
      const computed = folderAccess(inherited, folder.userId, folder.shares ?? []);
      access.set(folder.path, computed);
      await this.store.modify(FOLDERS_COLLECTION, eq(['_id'], folder._id), (record) => ({
        ...record,
        access: computed,
      }));
    }
    for (const collection of collections) {
      await this.store.modify(collection, eq(['ancestors'], path), (record) => {
        const lists = typeof record.folder === 'string' ? access.get(record.folder) : undefined;
        return lists ? { ...record, access: lists } : record;
      });
    }
  }
}
