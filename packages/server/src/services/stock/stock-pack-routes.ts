/**
 * The pack routes push and pull use (packs themselves go up through `PUT /blobs/<sha256>`,
 * resumable and hash-checked like any blob):
 * - `POST /stock-packs/<repo>` `{ pack }`: registers a pack the caller uploaded with a
 *   repository the caller may push to; the server checks every object in it (422 otherwise)
 *   → `{ pack, index, objects, bytes }`;
 * - `PUT /stock-packs/<repo>/<pack>` with the pack's bytes as the body: the same in one
 *   request (added later: older clients use the two steps above, and clients fall back to
 *   them on a server that answers this 405), for a caller who may push to the repository
 *   (checked before the body is read); the body must hash to `<pack>` (400) and every object
 *   in it to its id (422), checked as it arrives, and nothing is kept otherwise
 *   → 201 `{ pack, index, objects, bytes }` (200 when the repository held it already);
 * - `GET /stock-packs/<repo>`: the repository's packs, to whoever may read it;
 * - `GET|HEAD /stock-packs/<repo>/<pack>`: a pack's bytes (`Range` for resuming), to whoever
 *   may read the repository. A pack the repository does not hold answers 404, as does a
 *   repository the caller may not read: neither can be detected.
 */
import { isValidRecordId, LarderError } from '@larder/protocol';
import type { Context, Next } from 'koa';
import type { Actor } from '../../auth/actor.js';
import { type BlobStore, isSha256 } from '../../blobs/blob-store.js';
import { decodePathSegment } from '../../http/path-segment.js';
import { readJsonBody } from '../../http/read-json-body.js';
import { sendBlob } from '../../http/send-blob.js';
import type { DocumentStore } from '../../stores/document-store.js';
import { receiveCheckedPack } from './stock-pack-receive.js';
import { MAX_PACK_BYTES, type StockPacks } from './stock-packs.js';
import { readableRepository, writableRepository } from './stock-repository-access.js';

export interface StockPackRouteOptions {
  store: DocumentStore;
  blobs: BlobStore;
  packs: StockPacks;
  /** The server's limit on one blob; a pack is one blob. */
  maxBlobBytes: number;
  actorFor: (ctx: Context) => Promise<Actor>;
}

const ROUTE = /^\/stock-packs\/([^/]+)(?:\/([^/]*))?\/?$/;

export function stockPackRoutes(options: StockPackRouteOptions) {
  const { store, blobs, packs } = options;

  async function register(ctx: Context, actor: Actor, repo: string): Promise<void> {
    const body = (await readJsonBody(ctx, 4096)) as { pack?: unknown } | null;
    const pack = body?.pack;
    if (!isSha256(pack)) throw new LarderError('BadRequest', '"pack" must be the SHA-256 of an uploaded pack');
    await writableRepository(store, actor, repo);
    ctx.body = await packs.register(actor, repo, pack, actor.kind === 'user' ? actor.user._id : null);
    ctx.status = 201;
  }

  /** One request instead of `PUT /blobs/<pack>` then `POST /stock-packs/<repo>`. */
  async function receive(ctx: Context, actor: Actor, repo: string, pack: string): Promise<void> {
    if (!isSha256(pack)) throw new LarderError('BadRequest', 'A stock pack is named by its SHA-256 (64 hex digits)');
    await writableRepository(store, actor, repo);
    const limit = Math.min(MAX_PACK_BYTES, options.maxBlobBytes);
    const declared = Number(ctx.get('content-length') || Number.NaN);
    if (!Number.isSafeInteger(declared) || declared < 0) {
      ctx.set('Connection', 'close');
      throw new LarderError('LengthRequired', 'Send a stock pack with its Content-Length');
    }
    if (declared > limit) {
      // Answer at once and drop the connection rather than read what we will refuse.
      ctx.set('Connection', 'close');
      throw new LarderError('PayloadTooLarge', `A stock pack may hold at most ${limit} bytes here; send smaller ones`);
    }
    const held = await packs.record(repo, pack);
    if (held) {
      ctx.req.resume();
      ctx.body = held;
      return;
    }
    const pusher = actor.kind === 'user' ? actor.user._id : null;
    ctx.body = await receiveCheckedPack(ctx, (body, verifier) =>
      packs.receive(repo, pack, body, verifier, limit, pusher),
    );
    ctx.status = 201;
  }

  async function download(ctx: Context, actor: Actor, repo: string, pack: string, withBody: boolean) {
    if (!isSha256(pack)) throw new LarderError('BadRequest', 'A stock pack is named by its SHA-256 (64 hex digits)');
    await readableRepository(store, actor, repo);
    const record = await packs.record(repo, pack);
    const info = record ? await blobs.stat(pack) : undefined;
    if (!info) throw new LarderError('NotFound', `This stock repository holds no pack ${pack}`);
    await sendBlob(ctx, blobs, info, { bodyWanted: withBody, contentType: 'application/octet-stream' });
  }

  return async (ctx: Context, next: Next): Promise<void> => {
    const match = ROUTE.exec(ctx.path);
    if (!match) return next();
    const repo = decodePathSegment(match[1] ?? '');
    const pack = decodePathSegment(match[2] ?? '');
    if (!isValidRecordId(repo)) throw new LarderError('NotFound', `No stock route at ${ctx.path}`);
    const method = ctx.method;
    if (pack === '' && method === 'POST') return register(ctx, await options.actorFor(ctx), repo);
    if (pack === '' && method === 'GET') {
      await readableRepository(store, await options.actorFor(ctx), repo);
      ctx.body = { packs: await packs.packsOf(repo) };
      return;
    }
    if (pack !== '' && (method === 'GET' || method === 'HEAD')) {
      return download(ctx, await options.actorFor(ctx), repo, pack, method === 'GET');
    }
    if (pack !== '' && method === 'PUT') return receive(ctx, await options.actorFor(ctx), repo, pack);
    ctx.set('Allow', pack === '' ? 'GET, POST' : 'GET, HEAD, PUT');
    throw new LarderError('MethodNotAllowed', `${method} is not supported on ${ctx.path}`);
  };
}
