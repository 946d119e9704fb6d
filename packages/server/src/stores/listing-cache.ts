/**
 * The sorted ids of recent listings, kept so that a listing read page by page (an SDK's
 * `items()`, a gallery scrolled) finds, filters and sorts its matches once, not once a page:
 * later pages read only their own documents by id. An entry holds while its stamp is the
 * collection's write stamp (the adapter changes it on every write), so a page never comes
 * from a listing older than the last write. Bounded by the ids held, least recently used
 * first out. Callers must treat the arrays as read-only.
 */

/** About 10 MB of ids (~40 bytes each). */
const MAX_CACHED_IDS = 250_000;

interface Entry {
  stamp: string;
  ids: readonly string[];
}

export class ListingCache {
  private readonly entries = new Map<string, Entry>();
  private held = 0;

  constructor(private readonly maxIds = MAX_CACHED_IDS) {}

  /** The ids kept for `key` under `stamp`; `undefined` when none are (an entry of another stamp is dropped). */
  get(key: string, stamp: string): readonly string[] | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.stamp !== stamp) {
      this.held -= entry.ids.length;
      return undefined;
    }
    // Most recently used last.
    this.entries.set(key, entry);
    return entry.ids;
  }

  /** Keeps `ids` for `key` under `stamp` (a listing longer than the bound is not kept). */
  set(key: string, stamp: string, ids: readonly string[]): void {
    const old = this.entries.get(key);
    if (old) this.drop(key, old);
    if (ids.length > this.maxIds) return;
    this.entries.set(key, { stamp, ids });
    this.held += ids.length;
    for (const [oldest, entry] of this.entries) {
      if (this.held <= this.maxIds) break;
      this.drop(oldest, entry);
    }
  }

  clear(): void {
    this.entries.clear();
    this.held = 0;
  }

  private drop(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.held -= entry.ids.length;
  }
}
