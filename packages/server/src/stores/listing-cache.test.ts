import { describe, expect, it } from 'vitest';
import { ListingCache } from './listing-cache.js';

describe('ListingCache', () => {
  it('answers the kept ids while the stamp holds, and nothing once it moves', () => {
    const cache = new ListingCache();
    cache.set('tags=a', 'w1', ['x', 'y']);
    expect(cache.get('tags=a', 'w1')).toEqual(['x', 'y']);
    expect(cache.get('tags=a', 'w2')).toBeUndefined();
    // The stale entry is gone, even for its own stamp.
    expect(cache.get('tags=a', 'w1')).toBeUndefined();
    cache.set('tags=a', 'w2', ['y']);
    expect(cache.get('tags=a', 'w2')).toEqual(['y']);
  });

  it('keeps listings apart by key', () => {
    const cache = new ListingCache();
    cache.set('tags=a', 'w1', ['x']);
    cache.set('tags=b', 'w1', ['z']);
    expect(cache.get('tags=a', 'w1')).toEqual(['x']);
    expect(cache.get('tags=b', 'w1')).toEqual(['z']);
  });

  it('holds at most its bound of ids, dropping the least recently used listing first', () => {
    const cache = new ListingCache(4);
    cache.set('a', 's', ['1', '2']);
    cache.set('b', 's', ['3', '4']);
    // Reading `a` makes `b` the oldest.
    cache.get('a', 's');
    cache.set('c', 's', ['5']);
    expect(cache.get('a', 's')).toEqual(['1', '2']);
    expect(cache.get('b', 's')).toBeUndefined();
    expect(cache.get('c', 's')).toEqual(['5']);
    // A listing longer than the bound is not kept, and replaces nothing.
    cache.set('long', 's', ['1', '2', '3', '4', '5']);
    expect(cache.get('long', 's')).toBeUndefined();
    expect(cache.get('a', 's')).toEqual(['1', '2']);
  });
});
