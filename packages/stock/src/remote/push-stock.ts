/**
 * `push`: sends head.stock's commit and its history to a server repository, uploading only
 * the objects the server lacks (small ones in packs of up to 64 MiB, large ones one by one),
 * then moves the repository's ref. A push that would drop the
 * server's commits is refused unless forced.
 *
 * @example
 * const remote = new HttpStockRemote({ url, token });
 * const result = await pushStock(new StockRoom(), remote, { repo: 'mnist' });
 * console.log(`${result.objects} objects, ${result.bytes} bytes sent`);
 */
import { LarderError } from '@larder/protocol';
import type { ObjectPlace } from '../objects/object-store.js';
import { PACK_OBJECT_LIMIT } from '../packs/pack-format.js';
import { sendInPacks } from '../packs/pack-install.js';
import type { StockRoom } from '../stock-room.js';
import { commitAncestry, objectsForCommit } from '../transfer/commit-objects.js';
import { forEachConcurrently } from './bounded-concurrency.js';
import { chooseRepositoryName, saveRemoteRepository } from './remote-config.js';
import type { RemoteRepository, StockRemote, TransferProgress } from './stock-remote.js';

export interface PushOptions {
  /** The repository's name on the server (default: the one last used, else the directory's name). */
  repo?: string | undefined;
  /** The ref to move (default `main`). */
  ref?: string;
  /** Replace the server's ref even when that drops commits from it. */
  force?: boolean;
  /** Uploads at once (default 4). */
  concurrency?: number;
  onProgress?: (progress: TransferProgress) => void;
}

export interface PushResult {
  repository: RemoteRepository;
  /** True when the push created the repository. */
  created: boolean;
  ref: string;
  commit: string;
  previous: string | null;
  upToDate: boolean;
  forced: boolean;
  /** Commits the server did not have. */
  commits: number;
  /** Objects uploaded, and their bytes. */
  objects: number;
  bytes: number;
}

/** Ids per `missing` ask: as many as the server takes at once (its MAX_MISSING_QUERY), so 10,000 samples cost one round trip. */
const ASK_BATCH = 20_000;
/** Packs a push sends are at most this large, so an interrupted push redoes little. */
const TRANSFER_PACK_BYTES = 64 * 1024 * 1024;
/** And hold at most this many objects (the server indexes a pack in memory; it takes up to 1,000,000). */
const TRANSFER_PACK_OBJECTS = 500_000;

async function inBatches(ids: readonly string[], ask: (slice: string[]) => Promise<string[]>): Promise<string[]> {
  const answer: string[] = [];
  for (let start = 0; start < ids.length; start += ASK_BATCH)
    answer.push(...(await ask(ids.slice(start, start + ASK_BATCH))));
  return answer;
}

export async function pushStock(room: StockRoom, remote: StockRemote, options: PushOptions = {}): Promise<PushResult> {
  const ref = options.ref ?? 'main';
  const head = await room.head();
  if (head === undefined) {
    throw new LarderError('BadRequest', 'Nothing to push: commit first ("larder stock commit -m <message>")');
  }
  // Head's own objects are needed whatever the server holds (unless it is up to date): found
  // while the server is asked about the repository, rather than after.
  const headPlaces = objectsForCommit(room.objects, head).then((ids) => room.objects.places(ids));
  headPlaces.catch(() => {});
  const name = await chooseRepositoryName(room.layout, options.repo);
  let repository = await remote.findRepository(name);
  const created = repository === undefined;
  repository ??= await remote.createRepository(name);
  const previous = repository.refs?.[ref] ?? null;
  const result: PushResult = {
    repository,
    created,
    ref,
    commit: head,
    previous,
    upToDate: previous === head,
    forced: false,
    commits: 0,
    objects: 0,
    bytes: 0,
  };
  if (result.upToDate) {
    await saveRemoteRepository(room.layout, name);
    return result;
  }

  const history = await commitAncestry(room.objects, head);
  let known = new Set<string>();
  if (previous !== null) {
    if (!history.includes(previous) && !options.force) {
      throw new LarderError(
        'Conflict',
        `The server's "${ref}" of ${name} is at ${previous.slice(0, 12)}, which your head.stock does not include: pull first ("larder stock pull"), or push --force to replace it`,
        { data: { ref, current: previous } },
      );
    }
    if (await room.objects.has(previous)) known = new Set(await commitAncestry(room.objects, previous));
  }
  const commits = history.filter((id) => !known.has(id));
  // Per commit: tensors and tags, then manifests, then the commit; older commits first.
  // (Head is among them unless the server's ref is ahead of it: a forced push back.)
  const ofHead = commits.includes(head) ? await headPlaces : new Map<string, ObjectPlace>();
  let places = ofHead;
  const onlyHead = commits.length === 1 && commits[0] === head;
  if (commits.length > 0 && !onlyHead) {
    const needed = new Set<string>();
    for (const id of commits) {
      for (const hash of id === head ? ofHead.keys() : await objectsForCommit(room.objects, id)) needed.add(hash);
    }
    const others = await room.objects.places([...needed].filter((hash) => !ofHead.has(hash)));
    places = new Map();
    for (const hash of needed) places.set(hash, (ofHead.get(hash) ?? others.get(hash)) as ObjectPlace);
  }

  // Small objects travel in packs (one upload for thousands of samples), large ones alone.
  const alone: string[] = [];
  const packed: string[] = [];
  let packedBytes = 0;
  for (const [hash, { size, pack }] of places) {
    if (size >= PACK_OBJECT_LIMIT && pack === undefined) alone.push(hash);
    else {
      packed.push(hash);
      packedBytes += size;
    }
  }
  const missingAlone = await inBatches(alone, (ids) => remote.missingObjects(repository._id, ids));
  // A repository this push just created holds no packs: every packed object is missing.
  const missingPacked = created ? packed : await inBatches(packed, (ids) => remote.missingPacked(repository._id, ids));
  const sizeOf = (hash: string): number => places.get(hash)?.size ?? 0;
  const sum = (hashes: readonly string[]): number => hashes.reduce((total, hash) => total + sizeOf(hash), 0);
  const progress: TransferProgress = {
    phase: 'upload',
    objects: 0,
    totalObjects: missingAlone.length + missingPacked.length,
    bytes: 0,
    totalBytes: sum(missingAlone) + (missingPacked === packed ? packedBytes : sum(missingPacked)),
  };
  options.onProgress?.({ ...progress });
  await forEachConcurrently(missingAlone, options.concurrency ?? 4, async (hash) => {
    await remote.uploadObject(hash, room.objects.pathOf(hash), sizeOf(hash));
    progress.objects += 1;
    progress.bytes += sizeOf(hash);
    options.onProgress?.({ ...progress });
  });
  // A local pack whose every object is missing goes as it is; the others are packed afresh.
  // Both kinds upload at once: each is one request, and the server checks each by itself.
  const { packs: whole, rest } = room.objects.packs.covering(
    missingPacked,
    TRANSFER_PACK_OBJECTS,
    (hash) => places.get(hash)?.pack,
  );
  const sent = (pack: { objects: number; bytes: number }): void => {
    progress.objects += pack.objects;
    progress.bytes += pack.bytes;
    options.onProgress?.({ ...progress });
  };
  await Promise.all([
    forEachConcurrently(whole, options.concurrency ?? 4, async ({ name, path }) => {
      sent(await remote.uploadPack(repository._id, path, name));
    }),
    sendInPacks(
      rest,
      (hash) => room.objects.readRaw(hash),
      room.layout.scratch,
      TRANSFER_PACK_BYTES,
      TRANSFER_PACK_OBJECTS,
      async (path, pack) => {
        await remote.uploadPack(repository._id, path, pack.name);
        sent(pack);
      },
    ),
  ]);
  const missing = [...missingAlone, ...missingPacked];

  const moved = await remote.moveRef(repository._id, ref, {
    commit: head,
    from: previous,
    force: options.force ?? false,
  });
  await saveRemoteRepository(room.layout, name);
  return {
    ...result,
    repository: { ...repository, refs: { ...repository.refs, [ref]: head } },
    forced: moved.forced,
    commits: moved.recorded.length,
    objects: missing.length,
    bytes: progress.bytes,
  };
}
