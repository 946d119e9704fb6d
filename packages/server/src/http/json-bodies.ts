/**
 * Services speak JSON. A body sent without a JSON content type (curl's default
 * `application/x-www-form-urlencoded`, fetch's `text/plain` for a string, or none at all)
 * is read as JSON too, instead of becoming a record keyed by the whole text. Once parsed,
 * the body must be within the input limits of `json-input-limits.ts`.
 */
import type { Context, Next } from 'koa';
import { assertJsonInput } from './json-input-limits.js';

const READ_AS_JSON = /^(application\/x-www-form-urlencoded|text\/plain)\b/i;

export function jsonBodies() {
  return async (ctx: Context, next: Next): Promise<void> => {
    const type = ctx.get('content-type');
    if (ctx.method === 'POST' || ctx.method === 'PUT' || ctx.method === 'PATCH') {
      if (type === '' || READ_AS_JSON.test(type)) ctx.request.headers['content-type'] = 'application/json';
    }
    await next();
  };
}

/** After the body parser: a parsed body past the input limits is a 400, before any service sees it. */
export function jsonBodyLimits() {
  return async (ctx: Context, next: Next): Promise<void> => {
    const body = (ctx.request as { body?: unknown }).body;
    if (body !== undefined) assertJsonInput(body, 'The body');
    await next();
  };
}
