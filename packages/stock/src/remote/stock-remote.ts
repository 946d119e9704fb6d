/**
 * What push and pull need from a server, described by its shape so that the transfer logic
 * never depends on HTTP (`HttpStockRemote` is the Larder server's implementation).
 */
import type { ScannedPack } from '../packs/pack-format.js';

/** A stock repository as the server keeps it. */
export interface RemoteRepository {
  _id: string;
  name: string;
  description?: string;
  userId?: string;
  public?: boolean;
  /** ref name → commit id. */
  refs: Record<string, string>;
}

/** A pack a repository holds on the server. */
export interface RemotePack {
  /** Its SHA-256, which is also its name. */
  pack: string;
  objects: number;
  bytes: number;
}

export interface MoveRefOptions {
  commit: string;
  /** Where the pusher saw the ref (null: absent); the server refuses the move if it moved since. */
  from: string | null;
  force: boolean;
}

export interface MoveRefResult {
  ref: string;
  commit: string;
  previous: string | null;
  /** Commits the server added to the repository's history. */
  recorded: string[];
  forced: boolean;
}

export interface StockRemote {
  /** Where the repositories live, for messages. */
  readonly location: string;
  /** The repository with this name (one of yours first, else a readable one), or undefined. */
  findRepository(name: string): Promise<RemoteRepository | undefined>;
  /** Creates a private repository owned by the caller. */
  createRepository(name: string): Promise<RemoteRepository>;
  /** The ids among `ids` the server lacks (or will not let the caller use): those to upload. */
  missingObjects(repo: string, ids: readonly string[]): Promise<string[]>;
  /** Of `ids` (small objects, sent in packs), those the repository's packs lack. */
  missingPacked(repo: string, ids: readonly string[]): Promise<string[]>;
  /**
   * Uploads a pack file and has the repository hold it; the server checks every object.
   * `pack`, the file's SHA-256 when the caller knows it, lets it go in one request.
   */
  uploadPack(repo: string, path: string, pack?: string): Promise<RemotePack>;
  /** The repository's packs that hold any of `ids`, with how many of them each holds. */
  locatePacks(repo: string, ids: readonly string[]): Promise<(RemotePack & { wanted: number })[]>;
  /**
   * Downloads a pack of the repository into `path`, continuing a partial file left there by
   * an interrupted pull; rejects unless the whole file hashes to the pack's name. When the
   * pack came in one piece, answers what its objects were checked to be on their way in, so
   * that installing it need not read it back.
   */
  downloadPack(repo: string, pack: string, path: string): Promise<ScannedPack | undefined>;
  /** Uploads one object, streamed from its file; the server checks it against its id. */
  uploadObject(id: string, path: string, size: number): Promise<void>;
  /** One object's bytes, read through the repository's permission. */
  downloadObject(repo: string, id: string): Promise<Uint8Array>;
  /** Moves `ref` to a pushed commit whose objects are all uploaded. */
  moveRef(repo: string, ref: string, options: MoveRefOptions): Promise<MoveRefResult>;
  close(): Promise<void>;
}

/** How far a push or pull has got. */
export interface TransferProgress {
  phase: 'upload' | 'download';
  objects: number;
  totalObjects: number;
  bytes: number;
  /** Undefined while the total is not known (downloads learn sizes as they go). */
  totalBytes: number | undefined;
}
