import { describe, expect, it } from 'vitest';
import { StampedCache } from './stamped-cache.js';

const idsCache = (bound = 250_000) => new StampedCache<readonly string[]>(bound, (ids) => ids.length);

describe('StampedCache', () => {
  it('answers the kept value while the stamp holds, and nothing once it moves', () => {
    const cache = idsCache();
    cache.set('tags=a', 'w1', ['x', 'y']);
    expect(cache.get('tags=a', 'w1')).toEqual(['x', 'y']);
    expect(cache.get('tags=a', 'w2')).toBeUndefined();
    // The stale entry is gone, even for its own stamp.
    expect(cache.get('tags=a', 'w1')).toBeUndefined();
    cache.set('tags=a', 'w2', ['y']);
    expect(cache.get('tags=a', 'w2')).toEqual(['y']);
  });

  it('keeps values apart by key', () => {
    const cache = idsCache();
    cache.set('tags=a', 'w1', ['x']);
    cache.set('tags=b', 'w1', ['z']);
    expect(cache.get('tags=a', 'w1')).toEqual(['x']);
    expect(cache.get('tags=b', 'w1')).toEqual(['z']);
  });

  it('holds at most its bound of weight, dropping the least recently used value first', () => {
    const cache = idsCache(4);
    cache.set('a', 's', ['1', '2']);
    cache.set('b', 's', ['3', '4']);
    // Reading `a` makes `b` the oldest.
    cache.get('a', 's');
    cache.set('c', 's', ['5']);
    expect(cache.get('a', 's')).toEqual(['1', '2']);
    expect(cache.get('b', 's')).toBeUndefined();
    expect(cache.get('c', 's')).toEqual(['5']);
    // A value heavier than the bound is not kept, and pushes nothing out.
    cache.set('long', 's', ['1', '2', '3', '4', '5']);
    expect(cache.get('long', 's')).toBeUndefined();
    expect(cache.get('a', 's')).toEqual(['1', '2']);
  });

  it('counts a replaced value once', () => {
    const cache = idsCache(3);
    cache.set('a', 's1', ['1', '2']);
    cache.set('a', 's2', ['3', '4']);
    cache.set('b', 's', ['5']);
    expect(cache.get('a', 's2')).toEqual(['3', '4']);
    expect(cache.get('b', 's')).toEqual(['5']);
  });
});
