/**
 * Values kept between reads under a validity stamp: what the adapter says changes whenever
 * the value may have (a series' row, a collection's writes). A value is answered only for the
 * stamp it was kept under, so a read never gets a stale one. Bounded by a total weight (the
 * envelopes or ids held), least recently used first out; a value heavier than the bound is
 * not kept. Callers must treat the values as read-only.
 *
 * @example
 * const listings = new StampedCache<readonly string[]>(250_000, (ids) => ids.length);
 * listings.set('tags=a', 'w1', ['x', 'y']);
 * listings.get('tags=a', 'w1'); // ['x', 'y']
 * listings.get('tags=a', 'w2'); // undefined, and the entry is gone
 */

interface Entry<V> {
  stamp: string;
  value: V;
  weight: number;
}

export class StampedCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private held = 0;

  constructor(
    private readonly maxWeight: number,
    private readonly weigh: (value: V) => number,
  ) {}

  /** The value kept for `key` under `stamp`; `undefined` when none is (one of another stamp is dropped). */
  get(key: string, stamp: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.stamp !== stamp) {
      this.drop(key, entry);
      return undefined;
    }
    // Most recently used last.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Keeps `value` for `key` under `stamp`, in place of what was kept for `key`. */
  set(key: string, stamp: string, value: V): void {
    const old = this.entries.get(key);
    if (old) this.drop(key, old);
    const weight = this.weigh(value);
    if (weight > this.maxWeight) return;
    this.entries.set(key, { stamp, value, weight });
    this.held += weight;
    for (const [oldest, entry] of this.entries) {
      if (this.held <= this.maxWeight) break;
      this.drop(oldest, entry);
    }
  }

  clear(): void {
    this.entries.clear();
    this.held = 0;
  }

  private drop(key: string, entry: Entry<V>): void {
    this.entries.delete(key);
    this.held -= entry.weight;
  }
}
