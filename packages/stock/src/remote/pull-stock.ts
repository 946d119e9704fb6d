/**
 * `pull`: fetches a server repository's ref and the history behind it, downloading only the
 * objects this repository lacks and checking each against its id, then moves head.stock to
 * it when that is a fast-forward. Objects are stored tensors first, then the manifests and
 * commits that name them, so an interrupted pull never leaves a commit with missing objects.
 *
 * @example
 * const remote = new HttpStockRemote({ url, token });
 * const { status, head } = await pullStock(new StockRoom(), remote, { repo: 'mnist' });
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LarderError } from '@larder/protocol';
import { commitsOf } from '../commits/commit-graph.js';
import { type CommitRecord, parseCommit } from '../commits/commit-record.js';
import { decodeObject, sha256 } from '../objects/object-codec.js';
import type { StockRoom } from '../stock-room.js';
import { commitAncestry } from '../transfer/commit-objects.js';
import { forEachConcurrently } from './bounded-concurrency.js';
import { chooseRepositoryName, saveRemoteRepository } from './remote-config.js';
import type { RemoteRepository, StockRemote, TransferProgress } from './stock-remote.js';

export interface PullOptions {
  /** The repository's name on the server (default: the one last used, else the directory's name). */
  repo?: string | undefined;
  /** The ref to fetch (default `main`). */
  ref?: string;
  /** Downloads at once (default 8). */
  concurrency?: number;
  onProgress?: (progress: TransferProgress) => void;
}

/**
 * What happened to head.stock: moved to the server's commit (`fast-forward`), already there
 * (`up-to-date`), left alone because it holds commits the server lacks (`ahead`) or because
 * both sides have commits the other lacks (`diverged`), or nothing to pull (`empty`).
 */
export type PullStatus = 'fast-forward' | 'up-to-date' | 'ahead' | 'diverged' | 'empty';

export interface PullResult {
  repository: RemoteRepository;
  ref: string;
  /** The server's commit, undefined when the ref does not exist. */
  remote: string | undefined;
  /** head.stock after the pull. */
  head: string | undefined;
  status: PullStatus;
  /** Commits, objects and bytes downloaded. */
  commits: number;
  objects: number;
  bytes: number;
}

/** Ids per `locate` ask: as many as the server takes at once (its MAX_MISSING_QUERY). */
const LOCATE_BATCH = 20_000;

interface Fetched {
  id: string;
  bytes: Uint8Array;
}

export async function pullStock(room: StockRoom, remote: StockRemote, options: PullOptions = {}): Promise<PullResult> {
  if (room.readOnly) throw new LarderError('Forbidden', 'This stock view is read-only: it shows a past commit');
  const ref = options.ref ?? 'main';
  const name = await chooseRepositoryName(room.layout, options.repo);
  const repository = await remote.findRepository(name);
  if (repository === undefined) {
    throw new LarderError(
      'NotFound',
      `No stock repository named "${name}" on ${remote.location} that you may read: check --repo, or push to create it`,
    );
  }
  const tip = repository.refs?.[ref];
  const localHead = await room.head();
  const result: PullResult = {
    repository,
    ref,
    remote: tip,
    head: localHead,
    status: 'empty',
    commits: 0,
    objects: 0,
    bytes: 0,
  };
  if (tip === undefined) return result;

  const progress: TransferProgress = {
    phase: 'download',
    objects: 0,
    totalObjects: 0,
    bytes: 0,
    totalBytes: undefined,
  };
  const download = async (id: string): Promise<Uint8Array> => {
    const bytes = await remote.downloadObject(repository._id, id);
    const actual = sha256([bytes]);
    if (actual !== id) {
      throw new LarderError(
        'BadGateway',
        `Object ${id.slice(0, 12)} arrived damaged (it hashes to ${actual.slice(0, 12)}): pull again`,
      );
    }
    progress.objects += 1;
    progress.bytes += bytes.byteLength;
    options.onProgress?.({ ...progress });
    return bytes;
  };

  // 1. The commits this repository lacks, and the manifests they name: small, kept in memory.
  const commits = await missingCommits(room, tip, download);
  const manifests = new Map<string, Uint8Array>();
  const leaves = new Set<string>();
  for (const { record } of commits) {
    for (const [storage, keys] of Object.entries(record.tree)) {
      for (const hash of Object.values(keys)) {
        if (storage !== 'model') leaves.add(hash);
        else if (!manifests.has(hash) && !(await room.objects.has(hash))) manifests.set(hash, new Uint8Array());
      }
    }
  }
  progress.totalObjects = commits.length + manifests.size;
  await forEachConcurrently([...manifests.keys()], options.concurrency ?? 8, async (hash) => {
    manifests.set(hash, await download(hash));
  });
  for (const [hash, bytes] of manifests) {
    const manifest = decodeObject(bytes, hash);
    const tensors = manifest.kind === 'model' ? (manifest.value as { tensors?: { hash?: unknown }[] }).tensors : [];
    for (const entry of tensors ?? []) if (typeof entry.hash === 'string') leaves.add(entry.hash);
  }

  // 2. Tensors and tags: whole packs holding them, then any left one by one; 3. then manifests,
  // then commits, oldest first.
  let absent = await room.objects.missing(leaves);
  progress.totalObjects += absent.length;
  if (absent.length > 0) {
    const packs = new Map<string, number>();
    for (let start = 0; start < absent.length; start += LOCATE_BATCH) {
      for (const pack of await remote.locatePacks(repository._id, absent.slice(start, start + LOCATE_BATCH))) {
        packs.set(pack.pack, (packs.get(pack.pack) ?? 0) + pack.wanted);
      }
    }
    const installed: ReadonlyMap<string, unknown>[] = [];
    let unlisted = false;
    for (const [pack, wanted] of packs) {
      // Named by the pack: an interrupted pull leaves the part, and the next one continues it.
      const part = join(room.layout.scratch, `${pack}.pull.part`);
      await mkdir(room.layout.scratch, { recursive: true });
      // downloadPack checked the file against its name, and a pack that came whole object by
      // object against their ids: installing it need not hash or walk it again.
      const scanned = await remote.downloadPack(repository._id, pack, part);
      const sealed = await room.objects.installPack(part, pack, scanned);
      if (sealed.entries) installed.push(sealed.entries);
      else unlisted = true;
      progress.objects += wanted;
      progress.bytes += sealed.bytes;
      options.onProgress?.({ ...progress });
    }
    // What the installed packs hold is no longer missing (each of their objects was checked).
    if (unlisted) absent = await room.objects.missing(absent);
    else absent = absent.filter((hash) => !installed.some((entries) => entries.has(hash)));
  }
  await forEachConcurrently(absent, options.concurrency ?? 8, async (hash) => {
    await room.objects.writeRaw(hash, await download(hash));
  });
  for (const [hash, bytes] of manifests) await room.objects.writeRaw(hash, bytes);
  for (const { id, bytes, record } of commits) {
    await room.objects.writeRaw(id, bytes);
    commitsOf(room.objects).remember(id, record);
  }

  Object.assign(result, { commits: commits.length, objects: progress.objects, bytes: progress.bytes });
  result.status = await moveHead(room, localHead, tip);
  result.head = await room.head();
  await saveRemoteRepository(room.layout, name);
  return result;
}

/** The commits from `tip` back that are not stored here, oldest first (parents before children). */
async function missingCommits(
  room: StockRoom,
  tip: string,
  download: (id: string) => Promise<Uint8Array>,
): Promise<(Fetched & { record: CommitRecord })[]> {
  const fetched = new Map<string, Fetched & { record: CommitRecord }>();
  const order: (Fetched & { record: CommitRecord })[] = [];
  const stack: [string, boolean][] = [[tip, false]];
  while (stack.length > 0) {
    const [id, expanded] = stack.pop() as [string, boolean];
    const known = fetched.get(id);
    if (expanded) {
      if (known) order.push(known);
      continue;
    }
    if (known || (await room.objects.has(id))) continue;
    const bytes = await download(id);
    const decoded = decodeObject(bytes, id);
    if (decoded.kind !== 'commit') {
      throw new LarderError('BadGateway', `The server's ${id.slice(0, 12)} is a ${decoded.kind}, not a commit`);
    }
    const entry = { id, bytes, record: parseCommit(decoded.value, id) };
    fetched.set(id, entry);
    stack.push([id, true]);
    for (const parent of entry.record.parents) stack.push([parent, false]);
  }
  return order;
}

async function moveHead(room: StockRoom, local: string | undefined, tip: string): Promise<PullStatus> {
  if (local === tip) return 'up-to-date';
  if (local === undefined || (await commitAncestry(room.objects, tip)).includes(local)) {
    await room.checkout(tip);
    return 'fast-forward';
  }
  if ((await commitAncestry(room.objects, local)).includes(tip)) return 'ahead';
  return 'diverged';
}
