/**
 * Content-addressed file transfer:
 * - `POST /blobs` (or `PUT /blobs/<sha256>` to have the hash verified) streams the request
 *   body into the blob store and answers 201 `{ sha256, size }`;
 * - `GET /blobs/<sha256>` streams it back, honouring `Range` and `If-None-Match`;
 * - `HEAD /blobs/<sha256>` tells whether the caller may fetch it;
 * - `POST /blobs/compose` and `POST /blobs/gc`: see `blob-lifecycle-routes.ts`.
 * Bodies are never buffered, so memory stays flat whatever the size.
 */

import { LarderError } from '@larder/protocol';
import type { Context, Next } from 'koa';
import type { Actor } from '../auth/actor.js';
import { canReadBlob, recordBlobClaim } from '../auth/blob-access.js';
import { type BlobStore, isSha256 } from '../blobs/blob-store.js';
import { confirmUpload } from '../blobs/lifecycle/blob-uploads.js';
import type { DocumentStore } from '../stores/document-store.js';
import { collectRoute, composeRoute } from './blob-lifecycle-routes.js';
import { receiveBlob } from './receive-blob.js';
import { sendBlob } from './send-blob.js';

export interface BlobRoutesOptions {
  blobs: BlobStore;
  store: DocumentStore;
  maxBlobBytes: number;
  /** How long an unreferenced upload is kept by `POST /blobs/gc` unless told otherwise. */
  gcGraceMs: number;
  /** Resolves the caller; throws NotAuthenticated when auth is on and nobody signed in. */
  actorFor: (ctx: Context) => Promise<Actor>;
}

const PATH = /^\/blobs(?:\/([^/]*))?\/?$/;

export function blobRoutes(options: BlobRoutesOptions) {
  const { blobs, store } = options;

  async function upload(ctx: Context, expected: string | undefined): Promise<void> {
    const actor = await options.actorFor(ctx);
    const declared = Number(ctx.get('content-length'));
    if (Number.isFinite(declared) && declared > options.maxBlobBytes) {
      // Answer at once and drop the connection rather than read what we will refuse.
      ctx.set('Connection', 'close');
      throw new LarderError('PayloadTooLarge', `Blobs are limited to ${options.maxBlobBytes} bytes on this server`);
    }
    const result = await receiveBlob(ctx, blobs, {
      maxBytes: options.maxBlobBytes,
      ...(expected ? { expectedSha256: expected } : {}),
    });
    await confirmUpload(store, blobs, result.sha256);
    await recordBlobClaim(store, actor, result.sha256);
    ctx.status = 201;
    ctx.body = { sha256: result.sha256, size: result.size };
  }

  async function download(ctx: Context, sha256: string, bodyWanted: boolean): Promise<void> {
    const actor = await options.actorFor(ctx);
    const info = (await canReadBlob(store, actor, sha256)) ? await blobs.stat(sha256) : undefined;
    if (!info) throw new LarderError('NotFound', `No blob ${sha256} that you may read`);
    await sendBlob(ctx, blobs, info, { bodyWanted });
  }

  return async (ctx: Context, next: Next): Promise<void> => {
    const match = PATH.exec(ctx.path);
    if (!match) return next();
    const hash = match[1] || undefined;
    if (ctx.method === 'POST' && (hash === 'compose' || hash === 'gc')) {
      const actor = await options.actorFor(ctx);
      const lifecycle = { blobs, store, maxBlobBytes: options.maxBlobBytes, defaultGraceMs: options.gcGraceMs };
      return hash === 'compose' ? composeRoute(ctx, actor, lifecycle) : collectRoute(ctx, actor, lifecycle);
    }
    if (hash !== undefined && !isSha256(hash)) {
      throw new LarderError('BadRequest', 'A blob is named by the 64 lower-case hex digits of its SHA-256');
    }
    if (ctx.method === 'POST' && hash === undefined) return upload(ctx, undefined);
    if (ctx.method === 'PUT' && hash !== undefined) return upload(ctx, hash);
    if ((ctx.method === 'GET' || ctx.method === 'HEAD') && hash !== undefined) {
      return download(ctx, hash, ctx.method === 'GET');
    }
    ctx.set('Allow', hash === undefined ? 'POST' : 'GET, HEAD, PUT');
    throw new LarderError('MethodNotAllowed', `${ctx.method} is not supported on ${ctx.path}`);
  };
}
