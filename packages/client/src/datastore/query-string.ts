/**
 * Encodes a Feathers query object as a bracket query string that the `qs` package (and so
 * any Feathers REST server) parses back into the same object, with scalars as strings.
 * Arrays use indices (`$select[0]=name`) so arrays of objects (`$or`) keep their shape.
 *
 * @example
 * encodeQuery({ $sort: { createdAt: -1 }, $select: ['name'], k: { $in: ['a', 'b'] } });
 * // '$sort[createdAt]=-1&$select[0]=name&k[$in][0]=a&k[$in][1]=b'
 */
import { LarderError } from '@larder/protocol';

/** `qs.parse` keeps at most this many bracket levels and merges the rest into one key. */
export const MAX_QUERY_DEPTH = 5;
/** `qs.parse` silently drops every parameter after this many. */
export const MAX_QUERY_PARAMETERS = 1000;

/**
 * The query string (without `?`) for a Feathers query. `null` is sent as `null`, dates as
 * ISO 8601, `undefined` is left out. Throws a BadRequest for shapes a query string cannot
 * carry faithfully (empty arrays, nesting deeper than qs parses, too many parameters),
 * because a silently altered query could make a multi-record patch or remove hit the
 * wrong records.
 */
export function encodeQuery(query: Readonly<Record<string, unknown>>): string {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    appendValue(pairs, encodeKey(key), value, key, 0);
  }
  if (pairs.length > MAX_QUERY_PARAMETERS) {
    throw new LarderError(
      'BadRequest',
      `The query has ${pairs.length} parameters but a query string carries at most ${MAX_QUERY_PARAMETERS}; ` +
        "split the call or use the socket transport (new DataStore({ transport: 'socket' })).",
    );
  }
  return pairs.join('&');
}

function appendValue(pairs: string[], name: string, value: unknown, path: string, depth: number): void {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return;
  if (depth > MAX_QUERY_DEPTH) {
    throw new LarderError(
      'BadRequest',
      `The query is nested too deeply at "${path}": a query string carries at most ${MAX_QUERY_DEPTH} ` +
        "levels of brackets; flatten the query or use the socket transport (new DataStore({ transport: 'socket' })).",
    );
  }
  if (value === null) {
    pairs.push(`${name}=null`);
  } else if (value instanceof Date) {
    if (Number.isNaN(value.getTime()))
      throw new LarderError('BadRequest', `The query value at "${path}" is an invalid Date.`);
    pairs.push(`${name}=${encodeURIComponent(value.toISOString())}`);
  } else if (Array.isArray(value)) {
    if (value.length === 0) {
      throw new LarderError(
        'BadRequest',
        `The query value at "${path}" is an empty array, which a query string cannot carry (it would be dropped ` +
          'and the condition ignored); skip the call or use the socket transport.',
      );
    }
    value.forEach((item, index) => {
      appendValue(pairs, `${name}[${index}]`, item, `${path}.${index}`, depth + 1);
    });
  } else if (typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      appendValue(pairs, `${name}[${encodeKey(key)}]`, child, `${path}.${key}`, depth + 1);
    }
  } else {
    pairs.push(`${name}=${encodeURIComponent(String(value))}`);
  }
}

/**
 * Keeps `$` readable (`$sort`, `$in`): it needs no escaping in a query string. Brackets in a
 * key cannot be carried: the server would read `a[b]` as the nested field `a.b`.
 */
function encodeKey(key: string): string {
  if (/[[\]]/.test(key)) {
    throw new LarderError(
      'BadRequest',
      `The query key "${key}" holds a bracket, which a query string reads as nesting; ` +
        "use the socket transport (new DataStore({ transport: 'socket' })) for such field names.",
    );
  }
  return encodeURIComponent(key).replaceAll('%24', '$');
}
