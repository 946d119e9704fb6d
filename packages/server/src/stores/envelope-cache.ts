/**
 * The span envelopes of long series, kept between reads: a chart of a 100-million-point
 * series reads its ~3,000 spans on every zoom and pan (each read starts from them), and
 * reading and unpacking them is a good part of a whole-series read. An entry holds while the
 * series' row is unchanged (its count, chunks and last point: any append changes them), so a
 * read never answers stale envelopes; the adapter reads that row on every call anyway. Only
 * series with many envelopes are kept, least recently used first out past a bound on the
 * envelopes held (~150 bytes each). Callers must treat the arrays as read-only.
 */
import type { ChunkEnvelope } from './chunk-envelope.js';
import type { SeriesKey } from './metric-store.js';
import { StampedCache } from './stamped-cache.js';

/** Series with fewer envelopes are cheap to read again. */
const CACHE_FROM_ENVELOPES = 1024;
/** About 30 MB: some sixty series of 100 million points. */
const MAX_CACHED_ENVELOPES = 200_000;

export class EnvelopeCache {
  private readonly kept: StampedCache<ChunkEnvelope[]>;

  constructor(maxEnvelopes = MAX_CACHED_ENVELOPES) {
    this.kept = new StampedCache(maxEnvelopes, (envelopes) => envelopes.length);
  }

  /** The envelopes of `key` cached under `stamp`, or what `load` answers (then cached when long). */
  async get(key: SeriesKey, stamp: string, load: () => Promise<ChunkEnvelope[]>): Promise<ChunkEnvelope[]> {
    const id = `${key.run}\u0000${key.type}\u0000${key.name}`;
    const cached = this.kept.get(id, stamp);
    if (cached) return cached;
    const envelopes = await load();
    if (envelopes.length >= CACHE_FROM_ENVELOPES) this.kept.set(id, stamp, envelopes);
    return envelopes;
  }

  clear(): void {
    this.kept.clear();
  }
}

/** What changes whenever a series gets points: the cache's validity stamp. */
export function seriesStamp(row: {
  count: number;
  chunks: number;
  last_step?: unknown;
  last_time?: unknown;
  last?: unknown;
}): string {
  return `${row.count}|${row.chunks}|${String(row.last_step)}|${String(row.last_time)}|${String(row.last)}`;
}
