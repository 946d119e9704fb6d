/** Reads a small JSON body on a route that runs before the body parser. */
import { LarderError } from '@larder/protocol';
import type { Context } from 'koa';
import { parseJsonInput } from './json-input-limits.js';

export async function readJsonBody(ctx: Context, limitBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) {
      ctx.set('Connection', 'close');
      throw new LarderError('PayloadTooLarge', `This request's JSON body is limited to ${limitBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  return parseJsonInput(text, 'The body');
}
