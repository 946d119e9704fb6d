/**
 * The HTTP side of push and pull (objects themselves go up through `PUT /blobs/<id>`, since a
 * stock object's id is the SHA-256 of its bytes):
 * - `POST /stock-objects/<repo>/missing` `{ objects?: [id…], packed?: [id…] }` → `{ missing:
 *   [id…] }`: the objects the caller must upload before pushing to the repository, in the
 *   order asked; 403 for a read-only one. `objects` (sent one by one) count as present when
 *   in the repository's packs or stored and readable by the caller; `packed` (small objects,
 *   sent in a pack) only when in the repository's packs;
 * - `POST /stock-objects/<repo>/locate` `{ objects: [id…] }` → `{ packs: [{ pack, bytes,
 *   objects, wanted }] }`: which of the repository's packs hold those objects (a pull
 *   downloads those packs), to whoever may read the repository;
 * - `GET|HEAD /stock-objects/<repo>/<id>`: an object of the repository, to whoever may read
 *   the repository (reads are granted through the repository, not blob claims), from its
 *   packs or its own blob;
 * - `PUT /stock-refs/<repo>/<ref>` `{ commit, from?, force? }`: moves the ref (see
 *   `stock-ref-move.ts`); 409 when it is not a fast-forward or moved meanwhile.
 */
import { isValidRecordId, LarderError } from '@larder/protocol';
import type { Context, Next } from 'koa';
import type { Actor } from '../../auth/actor.js';
import { type BlobStore, isSha256 } from '../../blobs/blob-store.js';
import { decodePathSegment } from '../../http/path-segment.js';
import { readJsonBody } from '../../http/read-json-body.js';
import type { DocumentStore } from '../../stores/document-store.js';
import { assertRefName } from './stock-names.js';
import type { StockObjectAccess } from './stock-object-access.js';
import type { StockPacks } from './stock-packs.js';
import type { StockRefMover } from './stock-ref-move.js';
import { readableRepository, writableRepository } from './stock-repository-access.js';

export interface StockExchangeOptions {
  store: DocumentStore;
  blobs: BlobStore;
  access: StockObjectAccess;
  mover: StockRefMover;
  packs: StockPacks;
  actorFor: (ctx: Context) => Promise<Actor>;
}

/** One ask may name this many objects; clients ask in batches. */
export const MAX_MISSING_QUERY = 20_000;
const ROUTE = /^\/(stock-objects|stock-refs)(?:\/([^/]*))?(?:\/([^/]*))?\/?$/;

export function stockExchangeRoutes(options: StockExchangeOptions) {
  const { store, blobs, access, mover, packs } = options;

  async function idsOf(ctx: Context, fields: readonly string[]): Promise<Record<string, string[]>> {
    const body = (await readJsonBody(ctx, 100 * MAX_MISSING_QUERY)) as Record<string, unknown> | null;
    const lists: Record<string, string[]> = {};
    let total = 0;
    for (const field of fields) {
      const value = body?.[field] ?? [];
      if (!Array.isArray(value) || !value.every(isSha256)) {
        throw new LarderError('BadRequest', `"${field}" must be an array of object ids (64 lower-case hex digits)`);
      }
      lists[field] = value;
      total += value.length;
    }
    if (total > MAX_MISSING_QUERY) {
      throw new LarderError('BadRequest', `Ask about at most ${MAX_MISSING_QUERY} objects at a time`);
    }
    return lists;
  }

  async function missing(ctx: Context, actor: Actor, repo: string): Promise<void> {
    const { objects = [], packed = [] } = await idsOf(ctx, ['objects', 'packed']);
    await writableRepository(store, actor, repo);
    const asked = [...new Set([...objects, ...packed])];
    const inPacks = await packs.locate(repo, asked);
    const rest = objects.filter((hash) => !inPacks.has(hash));
    const held = rest.length === 0 ? new Map<string, number>() : await access.readable(actor, rest);
    ctx.body = { missing: asked.filter((hash) => !inPacks.has(hash) && !held.has(hash)) };
  }

  async function locate(ctx: Context, actor: Actor, repo: string): Promise<void> {
    const { objects = [] } = await idsOf(ctx, ['objects']);
    await readableRepository(store, actor, repo);
    const found = await packs.locate(repo, objects);
    const wanted = new Map<string, number>();
    for (const { pack } of found.values()) wanted.set(pack, (wanted.get(pack) ?? 0) + 1);
    const records = (await packs.packsOf(repo)).filter((record) => wanted.has(record.pack));
    ctx.body = {
      packs: records.map(({ pack, bytes, objects: count }) => ({
        pack,
        bytes,
        objects: count,
        wanted: wanted.get(pack),
      })),
    };
  }

  async function object(ctx: Context, actor: Actor, repo: string, hash: string, withBody: boolean) {
    if (!isSha256(hash)) {
      throw new LarderError('BadRequest', 'A stock object is named by the 64 lower-case hex digits of its SHA-256');
    }
    await readableRepository(store, actor, repo);
    const packed = (await packs.locate(repo, [hash])).get(hash);
    const info = packed ? undefined : (await access.repositoryHolds(repo, hash)) ? await blobs.stat(hash) : undefined;
    if (!info && !packed) throw new LarderError('NotFound', `This stock repository holds no object ${hash}`);
    ctx.set('ETag', `"${hash}"`);
    ctx.set('Cache-Control', 'private, max-age=31536000, immutable');
    ctx.type = 'application/octet-stream';
    if (packed) ctx.body = withBody ? await packs.read(packed) : '';
    else ctx.body = withBody ? await blobs.get(hash) : '';
    ctx.status = 200;
    ctx.length = packed ? packed.length : (info?.size ?? 0);
  }

  async function moveRef(ctx: Context, actor: Actor, repo: string, ref: string): Promise<void> {
    assertRefName(ref);
    const body = (await readJsonBody(ctx, 64 * 1024)) as { commit?: unknown; from?: unknown; force?: unknown };
    const { commit, from, force } = body ?? {};
    if (!isSha256(commit)) throw new LarderError('BadRequest', '"commit" must be a stock commit id (64 hex digits)');
    if (from !== undefined && from !== null && !isSha256(from)) {
      throw new LarderError('BadRequest', '"from" must be the commit id you saw the ref at, or null');
    }
    if (force !== undefined && typeof force !== 'boolean') {
      throw new LarderError('BadRequest', '"force" must be true or false');
    }
    const pusher = actor.kind === 'user' ? actor.user._id : null;
    ctx.body = await mover.move(actor, { repo, ref, commit, from, force: force === true }, pusher);
  }

  return async (ctx: Context, next: Next): Promise<void> => {
    const match = ROUTE.exec(ctx.path);
    if (!match) return next();
    const [, kind, repoSegment = '', second = ''] = match;
    const repo = decodePathSegment(repoSegment);
    const item = decodePathSegment(second);
    if (!isValidRecordId(repo)) throw new LarderError('NotFound', `No stock route at ${ctx.path}`);
    const method = ctx.method;
    if (kind === 'stock-objects' && item === 'missing' && method === 'POST') {
      return missing(ctx, await options.actorFor(ctx), repo);
    }
    if (kind === 'stock-objects' && item === 'locate' && method === 'POST') {
      return locate(ctx, await options.actorFor(ctx), repo);
    }
    if (kind === 'stock-objects' && item !== '' && (method === 'GET' || method === 'HEAD')) {
      return object(ctx, await options.actorFor(ctx), repo, item, method === 'GET');
    }
    if (kind === 'stock-refs' && item !== '' && method === 'PUT') {
      return moveRef(ctx, await options.actorFor(ctx), repo, item);
    }
    if (item === '') throw new LarderError('NotFound', `No stock route at ${ctx.path}`);
    ctx.set('Allow', kind === 'stock-refs' ? 'PUT' : item === 'missing' || item === 'locate' ? 'POST' : 'GET, HEAD');
    throw new LarderError('MethodNotAllowed', `${method} is not supported on ${ctx.path}`);
  };
}
