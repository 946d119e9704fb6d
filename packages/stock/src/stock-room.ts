/**
 * The entry point to a stock repository: its three storages (model, data, tag), commits and
 * history. Reads see the commit in `head.stock`; writes are staged (on disk, so another
 * process can commit them) until `commit`. One writer at a time holds `.stock/write.lock`.
 *
 * @example
 * const stock = new StockRoom();                  // finds head.stock above the working directory
 * await stock.tag.set('lr', 0.001);
 * await stock.model.saveWeights('mnist', model);
 * const id = await stock.commit('baseline');
 * const then = new StockRoom({ commit: id });     // a read-only view of that commit
 */
import { hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { LarderError } from '@larder/protocol';
import { diffTrees, type TreeDiff } from './commits/commit-diff.js';
import { type CommitInfo, type CommitReader, commitsOf } from './commits/commit-graph.js';
import {
  applyChanges,
  COMMIT_FORMAT,
  type CommitRecord,
  changesNothing,
  EMPTY_COMMIT,
} from './commits/commit-record.js';
import { ObjectStore } from './objects/object-store.js';
import { readHead, writeHead } from './repository/head-file.js';
import { loadStaging, type StagedChanges, type StagingSnapshot, saveStaging } from './repository/staging-area.js';
import { findStockRoot, type StockLayout, stockLayout } from './repository/stock-layout.js';
import { acquireWriteLock, type WriteLock } from './repository/write-lock.js';
import { DataStorage } from './storages/data-storage.js';
import { ModelStorage } from './storages/model-storage.js';
import type { StockAccess } from './storages/stock-access.js';
import { TagStorage } from './storages/tag-storage.js';
import { TreeView } from './tree-view.js';

export interface StockRoomOptions {
  /** The stock root; by default the nearest directory holding `head.stock` above the working directory. */
  path?: string;
  /** A commit id (or unique prefix) to open read-only instead of the one in `head.stock`. */
  commit?: string;
  /** Recorded in commits; default `$LARDER_AUTHOR`, else user@host. */
  author?: string;
  /** How long a writer waits for another writer's lock before failing (default 0). */
  lockWaitMs?: number;
  /** When a lock nobody refreshed is taken over (default 5 minutes). */
  lockStaleMs?: number;
  /** Fsync every object as it is written (slower; commits and head.stock are always fsynced). */
  durable?: boolean;
}

export interface StockDiff {
  from: string | undefined;
  to: string | undefined;
  storages: TreeDiff;
}

interface WriteScope {
  lock: WriteLock;
  staged: StagedChanges;
  view: TreeView;
}

export class StockRoom {
  readonly root: string;
  readonly layout: StockLayout;
  /** The content-addressed objects, for transfers (see `objectsForCommits`). */
  readonly objects: ObjectStore;
  readonly model: ModelStorage;
  readonly data: DataStorage;
  readonly tag: TagStorage;
  readonly #commits: CommitReader;
  readonly #options: StockRoomOptions;
  readonly #pinned: string | undefined;
  #pinnedId: Promise<string> | undefined;
  #scope: WriteScope | undefined;
  #readScope: TreeView | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  /** What the last scope saved to staging.json, so that the next one need not parse it again. */
  #staging: StagingSnapshot | undefined;

  constructor(options: StockRoomOptions = {}) {
    this.root = options.path === undefined ? findStockRoot() : resolve(options.path);
    this.layout = stockLayout(this.root);
    this.objects = new ObjectStore(this.layout.objects, this.layout.scratch, {
      durable: options.durable ?? false,
      packs: this.layout.packs,
    });
    this.#commits = commitsOf(this.objects);
    this.#options = options;
    this.#pinned = options.commit;
    const access: StockAccess = {
      read: (use) => this.#read(use),
      write: (use) => this.#write(use),
    };
    this.model = new ModelStorage(access);
    this.data = new DataStorage(access);
    this.tag = new TagStorage(access);
  }

  /** Opens a repository, checking that it exists and (for a past view) that the commit does. */
  static async open(options: StockRoomOptions = {}): Promise<StockRoom> {
    const stock = new StockRoom(options);
    await stock.head();
    return stock;
  }

  /** True for a view of a past commit, which refuses writes. */
  get readOnly(): boolean {
    return this.#pinned !== undefined;
  }

  /** The commit reads see: the pinned one, else the one in head.stock (undefined before any commit). */
  async head(): Promise<string | undefined> {
    if (this.#pinned === undefined) return readHead(this.layout);
    this.#pinnedId ??= this.#commits.resolve(this.#pinned);
    return this.#pinnedId;
  }

  /** The full id of a commit named by id, unique prefix or `head`. */
  async resolve(ref: string): Promise<string> {
    if (ref.toLowerCase() === 'head') {
      const head = await this.head();
      if (head === undefined) throw new LarderError('NotFound', 'This stock repository has no commits yet');
      return head;
    }
    return this.#commits.resolve(ref);
  }

  /**
   * Runs `work` with the write lock held and one view open, so that many reads and writes
   * skip re-reading head.stock and the staged changes. Reads inside see the staged changes.
   * On a read-only view it only keeps the view open.
   *
   * @example
   * await stock.optimize(async () => {
   *   for (const [name, image] of images) await stock.data.set('images', name, image);
   * });
   */
  async optimize<T>(work: () => Promise<T>): Promise<T> {
    if (this.#scope !== undefined || this.#readScope !== undefined) return work();
    if (this.readOnly) {
      this.#readScope = await this.#headView();
      try {
        return await work();
      } finally {
        this.#readScope = undefined;
      }
    }
    return this.#serialised(async () => {
      const lock = await this.#lock();
      try {
        const staged = await this.#loadStaging();
        this.#scope = { lock, staged, view: await this.#headView(staged) };
        await this.objects.beginBatch();
        try {
          return await work();
        } finally {
          this.#scope = undefined;
          await this.#endBatch(staged);
        }
      } finally {
        await lock.release();
      }
    });
  }

  /**
   * Records the staged changes as a commit on top of head.stock's commit and moves head.stock
   * to it, unless `updateHead` is false (stockroom's `commit(message, update_head=False)`):
   * then head.stock stays where it was, reads keep seeing its commit, and the new one is
   * reached by the id returned (`checkout(id)`, `new StockRoom({ commit: id })`). Refuses
   * when nothing changed.
   *
   * @example
   * const id = await stock.commit('try a wider layer', { updateHead: false });
   * const candidate = new StockRoom({ commit: id });
   */
  async commit(message: string, options: { updateHead?: boolean } = {}): Promise<string> {
    const updateHead = options.updateHead ?? true;
    if (typeof message !== 'string' || message.trim() === '') {
      throw new LarderError('BadRequest', 'A commit needs a message saying what changed');
    }
    return this.#write(async (_view, scope) => {
      const parent = await readHead(this.layout);
      const base = parent === undefined ? EMPTY_COMMIT : await this.#commits.read(parent);
      if (changesNothing(base.tree, scope.staged)) {
        throw new LarderError('BadRequest', 'Nothing to commit: no model, data or tag changed since the last commit');
      }
      const { tree, columns } = applyChanges(base, scope.staged);
      const record: CommitRecord = {
        format: COMMIT_FORMAT,
        parents: parent === undefined ? [] : [parent],
        message: message.trim(),
        author: this.#author(),
        time: new Date().toISOString(),
        tree,
        columns,
      };
      // What the commit names is made durable first, with one fsync per pack rather than per
      // object; then the commit itself, then head.stock.
      await this.objects.sealBatch({ durable: true });
      await this.objects.syncPacks(scope.staged.packs);
      const id = await this.objects.putJson('commit', record, { loose: true, durable: true });
      // Later reads in this process (log, push) need not read and parse it back.
      this.#commits.remember(id, record);
      if (updateHead) await writeHead(this.layout, id);
      scope.staged.changes = new Map();
      scope.staged.columns = {};
      scope.staged.packs = [];
      scope.view = updateHead
        ? new TreeView(this.objects, id, record, scope.staged)
        : await this.#headView(scope.staged);
      return id;
    });
  }

  /** Commits from head.stock's (or `from`) back to the first, newest first. */
  async log(options: { from?: string; limit?: number } = {}): Promise<CommitInfo[]> {
    const start = options.from === undefined ? await this.head() : await this.resolve(options.from);
    return this.#commits.history(start, options.limit);
  }

  /** One commit's details. */
  async commitInfo(ref: string): Promise<CommitInfo & { tree: CommitRecord['tree'] }> {
    const id = await this.resolve(ref);
    const { parents, message, author, time, tree } = await this.#commits.read(id);
    return { id, parents: [...parents], message, author, time, tree };
  }

  /** What was added, deleted and mutated from commit `from` to commit `to`, per storage. */
  async diff(from: string, to: string): Promise<StockDiff> {
    const [a, b] = [await this.resolve(from), await this.resolve(to)];
    const [left, right] = [await this.#commits.read(a), await this.#commits.read(b)];
    return { from: a, to: b, storages: diffTrees(left.tree, right.tree) };
  }

  /** The changes staged since head.stock's commit, as a diff from it. */
  async status(): Promise<TreeDiff> {
    const head = await readHead(this.layout);
    const base = head === undefined ? EMPTY_COMMIT : await this.#commits.read(head);
    const staged = this.#scope?.staged ?? (await loadStaging(this.layout));
    return diffTrees(base.tree, applyChanges(base, staged).tree);
  }

  /**
   * Points head.stock at another commit (for example one received by a pull). Staged changes
   * stay staged and will apply on top of it.
   */
  async checkout(ref: string): Promise<string> {
    if (this.readOnly) throw new LarderError('Forbidden', 'This stock view is read-only: it shows a past commit');
    const id = await this.#commits.resolve(ref);
    await this.#write(async (_view, scope) => {
      await writeHead(this.layout, id);
      scope.view = new TreeView(this.objects, id, await this.#commits.read(id), scope.staged);
    });
    return id;
  }

  /** Drops every staged change. */
  async discard(): Promise<void> {
    await this.#write(async (_view, scope) => {
      scope.staged.changes = new Map();
      scope.staged.columns = {};
      scope.view = await this.#headView(scope.staged);
    });
  }

  // #read and #write hand an open scope's view over without a promise of their own: inside
  // `optimize`, they run once per sample.
  #read<T>(use: (view: TreeView) => Promise<T>): Promise<T> {
    const view = this.#scope?.view ?? this.#readScope;
    if (view !== undefined) return use(view);
    return this.#headView().then(use);
  }

  #write<T>(use: (view: TreeView, scope: WriteScope) => Promise<T>): Promise<T> {
    if (this.readOnly) {
      return Promise.reject(new LarderError('Forbidden', 'This stock view is read-only: it shows a past commit'));
    }
    const current = this.#scope;
    if (current !== undefined) return use(current.view, current);
    return this.#serialised(async () => {
      const lock = await this.#lock();
      try {
        const staged = await this.#loadStaging();
        const scope: WriteScope = { lock, staged, view: await this.#headView(staged) };
        await this.objects.beginBatch();
        let result: T;
        try {
          result = await use(scope.view, scope);
        } catch (error) {
          await this.objects.discardBatch();
          throw error;
        }
        await this.#endBatch(staged);
        return result;
      } finally {
        await lock.release();
      }
    });
  }

  /** Makes the scope's objects visible, then records the staged changes that name them. */
  async #endBatch(staged: StagedChanges): Promise<void> {
    const sealed = await this.objects.endBatch();
    staged.packs.push(...sealed.map((pack) => pack.name).filter((name) => !staged.packs.includes(name)));
    this.#staging = await saveStaging(this.layout, staged);
  }

  /**
   * The staged changes for a new scope. The snapshot is taken, not shared: the scope changes
   * the object, and only a successful save (`#endBatch`) makes it a snapshot again.
   */
  #loadStaging(): Promise<StagedChanges> {
    const known = this.#staging;
    this.#staging = undefined;
    return loadStaging(this.layout, known);
  }

  async #headView(staged?: StagedChanges): Promise<TreeView> {
    const id = await this.head();
    const record = id === undefined ? EMPTY_COMMIT : await this.#commits.read(id);
    return new TreeView(this.objects, id, record, staged);
  }

  /** Writes from one StockRoom run one after another; the file lock guards against other processes. */
  #serialised<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => {});
    return run;
  }

  #lock(): Promise<WriteLock> {
    return acquireWriteLock(this.layout.lock, {
      waitMs: this.#options.lockWaitMs,
      staleMs: this.#options.lockStaleMs,
    });
  }

  #author(): string {
    if (this.#options.author) return this.#options.author;
    if (process.env.LARDER_AUTHOR) return process.env.LARDER_AUTHOR;
    try {
      return `${userInfo().username}@${hostname()}`;
    } catch {
      return `unknown@${hostname()}`;
    }
  }
}
