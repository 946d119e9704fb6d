import { describe, expect, test } from 'vitest';
import type { ChunkEnvelope } from './chunk-envelope.js';
import { EnvelopeCache, seriesStamp } from './envelope-cache.js';

const key = (name: string) => ({ run: 'r', type: 'train', name });
const envelopes = (count: number, seq = 0) => Array.from({ length: count }, () => ({ seq }) as ChunkEnvelope);

describe('the envelope cache', () => {
  test('answers a long series from memory while its stamp holds, and reloads when it changes', async () => {
    const cache = new EnvelopeCache();
    let loads = 0;
    const load = (seq: number) => async () => {
      loads += 1;
      return envelopes(2000, seq);
    };
    const first = await cache.get(key('loss'), 's1', load(1));
    expect(await cache.get(key('loss'), 's1', load(2))).toBe(first);
    expect(loads).toBe(1);
    const after = await cache.get(key('loss'), 's2', load(3));
    expect(after[0]?.seq).toBe(3);
    expect(loads).toBe(2);
    // Another series of the same run is its own entry.
    expect((await cache.get(key('acc'), 's1', load(4)))[0]?.seq).toBe(4);
    expect(loads).toBe(3);
  });

  test('keeps no short series, and drops the least recently used past its bound', async () => {
    const cache = new EnvelopeCache(5000);
    let loads = 0;
    const load = (count: number) => async () => {
      loads += 1;
      return envelopes(count);
    };
    await cache.get(key('short'), 's', load(10));
    await cache.get(key('short'), 's', load(10));
    expect(loads).toBe(2);
    await cache.get(key('a'), 's', load(2000));
    await cache.get(key('b'), 's', load(2000));
    await cache.get(key('a'), 's', load(2000)); // a is now the most recent
    expect(loads).toBe(4);
    await cache.get(key('c'), 's', load(2000)); // 6000 held: b goes
    await cache.get(key('a'), 's', load(2000));
    await cache.get(key('c'), 's', load(2000));
    expect(loads).toBe(5);
    await cache.get(key('b'), 's', load(2000));
    expect(loads).toBe(6);
  });

  test('stamps differ whenever a series gets a point', () => {
    const row = { count: 10, chunks: 1, last_step: 9, last_time: 1000, last: 0.5 };
    expect(seriesStamp(row)).toBe(seriesStamp({ ...row }));
    expect(seriesStamp({ ...row, count: 11 })).not.toBe(seriesStamp(row));
    expect(seriesStamp({ ...row, last: 0.25 })).not.toBe(seriesStamp(row));
  });
});
