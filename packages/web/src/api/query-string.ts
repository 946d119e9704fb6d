/**
 * Encodes a query object the way Feathers' REST transport reads it (`qs` brackets):
 * `{ 'hparams.lr': { $gte: 0.01 }, $sort: { name: 1 }, $select: ['name'] }` becomes
 * `hparams.lr[$gte]=0.01&$sort[name]=1&$select[]=name`.
 */
export type QueryValue = string | number | boolean | null | QueryValue[] | { [key: string]: QueryValue };
export type Query = Record<string, QueryValue | undefined>;

function pairs(prefix: string, value: QueryValue, into: string[]): void {
  if (Array.isArray(value)) {
    // Objects inside arrays (`$or`) need their index; scalars (`$in`, `$select`) do not.
    for (const [index, item] of value.entries()) {
      pairs(item !== null && typeof item === 'object' ? `${prefix}[${index}]` : `${prefix}[]`, item, into);
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) pairs(`${prefix}[${key}]`, inner, into);
  } else {
    into.push(`${encodeKey(prefix)}=${encodeURIComponent(value === null ? 'null' : String(value))}`);
  }
}

/** Keeps brackets and `$` readable; everything else is percent-encoded. */
function encodeKey(key: string): string {
  return encodeURIComponent(key).replace(/%5B/g, '[').replace(/%5D/g, ']').replace(/%24/g, '$');
}

export function encodeQuery(query: Query): string {
  const into: string[] = [];
  for (const [key, value] of Object.entries(query)) if (value !== undefined) pairs(key, value, into);
  return into.join('&');
}
