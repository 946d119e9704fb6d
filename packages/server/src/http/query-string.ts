/**
 * Bracket query strings (`$sort[createdAt]=-1`, `k[$in][]=a`) parsed by `qs` with limits
 * generous enough for real `$in` lists (qs turns arrays past its default 20 into objects).
 */
import type { Context, Next } from 'koa';
import qs from 'qs';

const OPTIONS: qs.IParseOptions = { arrayLimit: 5000, depth: 12, parameterLimit: 20_000, allowPrototypes: false };

export function parseQueryString() {
  return async (ctx: Context, next: Next): Promise<void> => {
    const query = ctx.querystring ? qs.parse(ctx.querystring, OPTIONS) : {};
    Object.defineProperty(ctx.request, 'query', { value: query, configurable: true, writable: true });
    await next();
  };
}
