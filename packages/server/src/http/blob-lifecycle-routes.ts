/**
 * - `POST /blobs/compose` `{ parts: [sha256…], sha256? }`: joins blobs the caller may read
 *   into one, in order (the last step of a chunked, resumable upload; `sha256` is checked
 *   when given). Answers 201 `{ sha256, size }` like an upload. The store joins them its
 *   cheapest way (`composeBlobs`); when the caller already holds `sha256` and it is stored,
 *   nothing is joined (the caller could name that blob anyway).
 * - `POST /blobs/gc` `{ graceSeconds?, dryRun? }` (admins): collects unreferenced blobs now
 *   and answers the report.
 */
import { LarderError } from '@larder/protocol';
import type { Context } from 'koa';
import { type Actor, isAllPowerful } from '../auth/actor.js';
import { canReadBlob, recordBlobClaim } from '../auth/blob-access.js';
import { type BlobStore, isSha256 } from '../blobs/blob-store.js';
import { composeBlobs } from '../blobs/concatenated-blobs.js';
import { confirmUpload } from '../blobs/lifecycle/blob-uploads.js';
import { GarbageCollector } from '../blobs/lifecycle/garbage-collector.js';
import type { DocumentStore } from '../stores/document-store.js';
import { readJsonBody } from './read-json-body.js';

export const MAX_COMPOSE_PARTS = 10_000;
const MAX_BODY_BYTES = 1024 * 1024;

export interface BlobLifecycleOptions {
  blobs: BlobStore;
  store: DocumentStore;
  maxBlobBytes: number;
  defaultGraceMs: number;
}

export async function composeRoute(ctx: Context, actor: Actor, options: BlobLifecycleOptions): Promise<void> {
  const body = await readJsonBody(ctx, MAX_BODY_BYTES);
  const { parts, sha256 } = (body ?? {}) as { parts?: unknown; sha256?: unknown };
  if (!Array.isArray(parts) || parts.length === 0 || !parts.every(isSha256)) {
    throw new LarderError('BadRequest', '"parts" must be a non-empty array of blob hashes (64 lower-case hex digits)');
  }
  if (parts.length > MAX_COMPOSE_PARTS) {
    throw new LarderError('BadRequest', `A blob can be composed of at most ${MAX_COMPOSE_PARTS} parts`);
  }
  if (sha256 !== undefined && !isSha256(sha256)) {
    throw new LarderError('BadRequest', '"sha256" must be 64 lower-case hex digits');
  }
  let total = 0;
  for (const part of new Set(parts)) {
    const info = (await canReadBlob(options.store, actor, part)) ? await options.blobs.stat(part) : undefined;
    if (!info) throw new LarderError('BadRequest', `Part ${part} is not a blob you have uploaded; upload it first`);
  }
  for (const part of parts) total += (await options.blobs.stat(part))?.size ?? 0;
  if (total > options.maxBlobBytes) {
    throw new LarderError('PayloadTooLarge', `Blobs are limited to ${options.maxBlobBytes} bytes on this server`);
  }
  const held =
    sha256 && (await canReadBlob(options.store, actor, sha256)) ? await options.blobs.stat(sha256) : undefined;
  const result =
    held ??
    (await composeBlobs(options.blobs, parts, {
      maxBytes: options.maxBlobBytes,
      ...(sha256 ? { expectedSha256: sha256 } : {}),
    }));
  await confirmUpload(options.store, options.blobs, result.sha256);
  await recordBlobClaim(options.store, actor, result.sha256);
  ctx.status = 201;
  ctx.body = { sha256: result.sha256, size: result.size };
}

export async function collectRoute(ctx: Context, actor: Actor, options: BlobLifecycleOptions): Promise<void> {
  if (!isAllPowerful(actor)) throw new LarderError('Forbidden', 'Only administrators can run garbage collection');
  const body = (await readJsonBody(ctx, MAX_BODY_BYTES)) as { graceSeconds?: unknown; dryRun?: unknown };
  const { graceSeconds, dryRun } = body ?? {};
  if (graceSeconds !== undefined && (typeof graceSeconds !== 'number' || !(graceSeconds >= 0))) {
    throw new LarderError('BadRequest', '"graceSeconds" must be a number of seconds, 0 or more');
  }
  if (dryRun !== undefined && typeof dryRun !== 'boolean') {
    throw new LarderError('BadRequest', '"dryRun" must be true or false');
  }
  const graceMs = graceSeconds === undefined ? options.defaultGraceMs : graceSeconds * 1000;
  ctx.body = await new GarbageCollector(options.store, options.blobs).collect({ graceMs, dryRun: dryRun === true });
}
