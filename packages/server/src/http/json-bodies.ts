/**
 * Services speak JSON. A body sent without a JSON content type (curl's default
 * `application/x-www-form-urlencoded`, fetch's `text/plain` for a string, or none at all)
 * is read as JSON too, instead of becoming a record keyed by the whole text.
 */
import type { Context, Next } from 'koa';

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
