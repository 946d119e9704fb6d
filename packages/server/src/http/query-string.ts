/**
 * Bracket query strings (`$sort[createdAt]=-1`, `k[$in][]=a`) parsed by `qs` with limits
 * generous enough for real `$in` lists (qs turns arrays past its default 20 into objects).
 */
import { LarderError } from '@larder/protocol';
import type { Context, Next } from 'koa';
import qs from 'qs';
import { assertJsonInput } from './json-input-limits.js';

/** Deep enough for the query parser's own nesting limit (each level is two brackets). */
const MAX_BRACKETS = 64;
const OPTIONS: qs.IParseOptions = {
  arrayLimit: 50_000,
  depth: MAX_BRACKETS,
  strictDepth: true,
  parameterLimit: 50_000,
  // Null-prototype objects: fields named `constructor` or `toString` are kept, not dropped.
  plainObjects: true,
};

function parse(querystring: string): Record<string, unknown> {
  try {
    return qs.parse(querystring, OPTIONS);
  } catch (error) {
    throw new LarderError('BadRequest', `The query string is nested deeper than ${MAX_BRACKETS} brackets`, {
      cause: error,
    });
  }
}

export function parseQueryString() {
  return async (ctx: Context, next: Next): Promise<void> => {
    const query = ctx.querystring ? parse(ctx.querystring) : {};
    assertJsonInput(query, 'The query string');
    Object.defineProperty(ctx.request, 'query', { value: query, configurable: true, writable: true });
    await next();
  };
}
