/**
 * A pack arriving as a request body, checked as it flows: every chunk passes through the
 * pack's verifier on its way to the blob store, so a malformed or mis-hashed pack fails the
 * store's write itself (the refusal and interruption rules are `receiveBody`'s, as for any
 * raw upload).
 */
import type { Readable } from 'node:stream';
import type { Context } from 'koa';
import { receiveBody } from '../../http/receive-blob.js';
import { type PackVerifier, packVerifier } from './stock-pack-format.js';

/**
 * Hands `store` the request body (of the Content-Length the route checked) through a
 * verifier, and answers what it answers.
 */
export function receiveCheckedPack<T>(
  ctx: Context,
  store: (body: Readable, verifier: PackVerifier) => Promise<T>,
): Promise<T> {
  const verifier = packVerifier(Number(ctx.get('content-length')));
  return receiveBody(
    ctx,
    (body) => store(body, verifier),
    (chunk) => verifier.take(chunk),
  );
}
