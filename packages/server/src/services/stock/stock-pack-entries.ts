/**
 * The objects a verified pack holds, kept as the pack gives them: raw 32-byte ids beside their
 * offsets and lengths, in pack order. Nothing is turned into hex while a pack streams in; the
 * index is encoded from the raw ids, and the hex lookups of a ref move build their map once.
 */

export interface PackEntry {
  offset: number;
  length: number;
}

/** Entry numbers fit in 20 bits below a sort key's id prefix (a pack holds at most 1,000,000 objects). */
const ENTRY_BITS = 2 ** 20;
export const MAX_LISTED_ENTRIES = ENTRY_BITS - 1;
const FIRST_CAPACITY = 1024;
/** Ids gathered as strings, then written into the id buffer in one call. */
const ID_BATCH = 1024;

export class PackEntries {
  private count = 0;
  private ids = Buffer.alloc(32 * FIRST_CAPACITY);
  /** Entries whose ids are in `ids`; the later ones wait in `latest`. */
  private written = 0;
  /** The latest ids, each as 32 latin1 characters (one per byte). */
  private latest: string[] = [];
  private offsets = new Float64Array(FIRST_CAPACITY);
  private lengths = new Uint32Array(FIRST_CAPACITY);
  private sorted: Uint32Array | undefined;
  private byHex: Map<string, number> | undefined;

  /**
   * Lists an object at `offset` in the pack whose raw id is `id`, its 32 bytes as latin1
   * characters (a digest's `latin1` encoding). At most `MAX_LISTED_ENTRIES` (the verifier
   * refuses packs that hold more).
   */
  add(id: string, offset: number, length: number): void {
    if (id.length !== 32) throw new RangeError('A pack entry id is 32 bytes');
    if (this.count === this.offsets.length) this.grow();
    const n = this.count;
    this.latest.push(id);
    this.offsets[n] = offset;
    this.lengths[n] = length;
    this.count = n + 1;
    if (this.latest.length === ID_BATCH) this.write();
    this.sorted = undefined;
    this.byHex = undefined;
  }

  /** Objects listed, a repeated id counted each time (the verifier's bound). */
  get listed(): number {
    return this.count;
  }

  /** Distinct objects: a pack names each id once, and should one repeat, its first place counts. */
  get size(): number {
    return this.order().length;
  }

  offsetOf(n: number): number {
    return this.offsets[n] as number;
  }

  lengthOf(n: number): number {
    return this.lengths[n] as number;
  }

  /** The raw ids, 32 bytes per entry in pack order (a view, not a copy). */
  rawIds(): Buffer {
    this.write();
    return this.ids.subarray(0, this.count * 32);
  }

  /**
   * The entry numbers ordered by id, bytewise, each id once (its first place): the order of an
   * index. Sorted as numbers whose high bits are an id's first four bytes and low bits its entry
   * number; only ids sharing those four bytes (rare) are then compared whole.
   */
  order(): Uint32Array {
    if (this.sorted) return this.sorted;
    const ids = this.rawIds();
    const n = this.count;
    const view = new DataView(ids.buffer, ids.byteOffset, ids.length);
    const keys = new Float64Array(n);
    for (let entry = 0; entry < n; entry += 1) keys[entry] = view.getUint32(entry * 32) * ENTRY_BITS + entry;
    keys.sort();
    const order = new Uint32Array(n);
    let kept = 0;
    for (let start = 0; start < n; ) {
      const prefix = Math.floor((keys[start] as number) / ENTRY_BITS);
      let end = start + 1;
      while (end < n && Math.floor((keys[end] as number) / ENTRY_BITS) === prefix) end += 1;
      if (end === start + 1) order[kept++] = (keys[start] as number) % ENTRY_BITS;
      else kept = this.placeTies(keys.subarray(start, end), order, kept);
      start = end;
    }
    this.sorted = order.subarray(0, kept);
    return this.sorted;
  }

  /** Orders entries sharing their first four bytes by whole id, dropping later repeats. */
  private placeTies(keys: Float64Array, order: Uint32Array, kept: number): number {
    // The keys are in entry order; a stable sort by id keeps a repeated id's first place first.
    const run = Array.from(keys, (key) => key % ENTRY_BITS);
    run.sort((a, b) => this.compareIds(a, b));
    let last = -1;
    for (const entry of run) {
      if (last < 0 || this.compareIds(last, entry) !== 0) order[kept++] = entry;
      last = entry;
    }
    return kept;
  }

  private compareIds(a: number, b: number): number {
    return this.ids.compare(this.ids, b * 32, b * 32 + 32, a * 32, a * 32 + 32);
  }

  /** Where the object of hex id `hash` lies, or undefined. */
  get(hash: string): PackEntry | undefined {
    const entry = this.indexOf(hash);
    return entry < 0 ? undefined : { offset: this.offsetOf(entry), length: this.lengthOf(entry) };
  }

  /** The entry number of hex id `hash` (its first place), or -1. */
  indexOf(hash: string): number {
    return this.hexMap().get(hash) ?? -1;
  }

  /**
   * Builds the map of hex ids that lookups use, if not built yet: done at the first lookup, or
   * earlier by a caller that has the time (while the pack is made durable).
   */
  hexMap(): ReadonlyMap<string, number> {
    if (this.byHex === undefined) {
      const hex = this.rawIds().toString('hex');
      const map = new Map<string, number>();
      // Last to first, so that a repeated id keeps its first place without a lookup per entry.
      for (let entry = this.count - 1; entry >= 0; entry -= 1) map.set(hex.slice(entry * 64, entry * 64 + 64), entry);
      this.byHex = map;
    }
    return this.byHex;
  }

  /** Writes the waiting ids into `ids` in one call. */
  private write(): void {
    if (this.latest.length === 0) return;
    this.ids.write(this.latest.join(''), this.written * 32, this.latest.length * 32, 'latin1');
    this.written += this.latest.length;
    this.latest = [];
  }

  private grow(): void {
    const capacity = this.offsets.length * 2;
    const ids = Buffer.alloc(32 * capacity);
    this.ids.copy(ids, 0, 0, this.written * 32);
    this.ids = ids;
    const offsets = new Float64Array(capacity);
    offsets.set(this.offsets);
    this.offsets = offsets;
    const lengths = new Uint32Array(capacity);
    lengths.set(this.lengths);
    this.lengths = lengths;
  }
}
