import { LarderError } from '@larder/protocol';
import { parse } from 'qs';
import { describe, expect, it } from 'vitest';
import { encodeQuery, MAX_QUERY_PARAMETERS } from './query-string.js';

/** What a query looks like after a trip through a query string: every scalar a string. */
function stringified(value: unknown): unknown {
  if (value === null) return 'null';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(stringified);
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, stringified(child)]));
  }
  return String(value);
}

const shapes: Record<string, Record<string, unknown>> = {
  'plain equality': { name: 'mnist', epochs: 10, done: true },
  'sort and select': { $sort: { createdAt: -1, name: 1 }, $select: ['name', 'status'], $limit: 1, $skip: 20 },
  'in and nin': { status: { $in: ['idle', 'start'] }, tag: { $nin: ['old'] } },
  'ranges on one field': { score: { $gt: 0.5, $lte: 1 }, epoch: { $ne: 3 } },
  'or of objects': { $or: [{ name: 'a' }, { score: { $gt: 2 } }] },
  'and with nested in': { $and: [{ tags: { $in: ['x', 'y'] } }, { $or: [{ a: 1 }, { b: { $lt: 2 } }] }] },
  'nested objects': { a: { b: { $gt: 1 } }, 'metadata.epoch': { $gte: 2 } },
  'null and dates': { parent: null, createdAt: { $gt: new Date('2024-01-02T03:04:05.000Z') } },
  'characters that need escaping': {
    'key with space&=': 'a&b=c+d e',
    hash: '#fragment?',
    unicode: 'héllo 🌍',
    percent: '100%',
    brackets: 'x[0]',
  },
  'negative and fractional numbers': { low: { $gt: -1.5e-3 }, big: 12345678901234 },
  'a twenty-item list': { _id: { $in: Array.from({ length: 20 }, (_, i) => `id-${i}`) } },
  $distinct: { $distinct: 'status', source: 'keras' },
};

describe('encodeQuery', () => {
  it.each(Object.entries(shapes))('round-trips %s through qs.parse', (_name, query) => {
    expect(parse(encodeQuery(query))).toEqual(stringified(query));
  });

  it('writes the readable bracket form Feathers servers expect', () => {
    expect(encodeQuery({ $sort: { createdAt: -1 }, $select: ['name'], k: { $in: ['a', 'b'] }, $limit: 1 })).toBe(
      '$sort[createdAt]=-1&$select[0]=name&k[$in][0]=a&k[$in][1]=b&$limit=1',
    );
    expect(encodeQuery({ a: { b: { $gt: 1 } } })).toBe('a[b][$gt]=1');
  });

  it('leaves out undefined values and answers an empty string for an empty query', () => {
    expect(encodeQuery({})).toBe('');
    expect(encodeQuery({ a: undefined, b: 1 })).toBe('b=1');
  });

  it('keeps lists longer than qs arrays as index-keyed objects a server can read back in order', () => {
    const ids = Array.from({ length: 50 }, (_, i) => `id-${i}`);
    const parsed = parse(encodeQuery({ _id: { $in: ids } })) as { _id: { $in: Record<string, string> } };
    const keys = Object.keys(parsed._id.$in).sort((a, b) => Number(a) - Number(b));
    expect(keys.map((key) => parsed._id.$in[key])).toEqual(ids);
  });

  it('refuses an empty array rather than silently dropping the condition', () => {
    expect(() => encodeQuery({ _id: { $in: [] } })).toThrow(/"_id\.\$in" is an empty array/);
    expect(() => encodeQuery({ _id: { $in: [] } })).toThrow(LarderError);
  });

  it('refuses nesting deeper than qs parses', () => {
    expect(() => encodeQuery({ $or: [{ $and: [{ f: { $in: ['a'] } }] }] })).toThrow(/nested too deeply/);
    const fiveLevels = { $or: [{ $and: [{ f: { $in: 'a' } }] }] };
    expect(parse(encodeQuery(fiveLevels))).toEqual(fiveLevels);
  });

  it('refuses more parameters than qs reads', () => {
    const ids = Array.from({ length: MAX_QUERY_PARAMETERS + 1 }, (_, i) => i);
    expect(() => encodeQuery({ _id: { $nin: ids } })).toThrow(/at most 1000/);
  });
});
