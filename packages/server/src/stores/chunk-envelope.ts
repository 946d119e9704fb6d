/**
 * Envelopes of a chunked series: what a downsampled read of a long series needs instead of
 * its points. An envelope covers consecutive points (a 256-point segment of a chunk, a whole
 * chunk, or a span of `SPAN_CHUNKS` chunks) and keeps their two ends, their lowest and highest
 * values with where they are, and the range of their steps. Three levels are stored, in small
 * rows of their own:
 * - per chunk, the envelopes of its segments (`SEGMENT_POINTS` each);
 * - per group of `GROUP_CHUNKS` chunks, the envelope of each chunk;
 * - per group, the envelope of each of its spans.
 * So a full-zoom read of a 100-million-point series reads ~380 span rows (3,052 envelopes,
 * 370 kB), a read zoomed to a few million points the group or segment rows of the chunks it
 * touches, never the points.
 */
import type { PointColumns } from './metric-store.js';

export const SEGMENT_POINTS = 256;
export const GROUP_CHUNKS = 64;
/** Chunks per span (a group holds `GROUP_CHUNKS / SPAN_CHUNKS` spans, each starting at a multiple of it). */
export const SPAN_CHUNKS = 8;

export interface ChunkEnvelope {
  /** The chunk it is in (a span's first chunk). */
  seq: number;
  /** Index in the chunk of its first point (0 for a span). */
  start: number;
  count: number;
  firstStep: number;
  firstValue: number;
  lastStep: number;
  lastValue: number;
  /**
   * Index in the chunk of its lowest finite value, -1 when it has none. A span's indexes (this
   * and `maxIndex`) count from the first point of its first chunk, so `(seq, index)` orders
   * points as the series does.
   */
  minIndex: number;
  minStep: number;
  minValue: number;
  maxIndex: number;
  maxStep: number;
  maxValue: number;
  /** The lowest and highest step it holds (steps need not be in order). */
  stepLow: number;
  stepHigh: number;
}

/** The fields of an envelope, in their packed order. */
const FIELDS = [
  'seq',
  'start',
  'count',
  'firstStep',
  'firstValue',
  'lastStep',
  'lastValue',
  'minIndex',
  'minStep',
  'minValue',
  'maxIndex',
  'maxStep',
  'maxValue',
  'stepLow',
  'stepHigh',
] as const satisfies readonly (keyof ChunkEnvelope)[];

/** The envelope of points `start..end` of a chunk's columns. */
export function envelopeOf(seq: number, columns: PointColumns, start = 0, end = columns.steps.length): ChunkEnvelope {
  const { steps, values } = columns;
  let minIndex = -1;
  let maxIndex = -1;
  let stepLow = Number.POSITIVE_INFINITY;
  let stepHigh = Number.NEGATIVE_INFINITY;
  for (let index = start; index < end; index += 1) {
    const step = steps[index] as number;
    if (step < stepLow) stepLow = step;
    if (step > stepHigh) stepHigh = step;
    const value = values[index] as number;
    if (!Number.isFinite(value)) continue;
    if (minIndex < 0 || value < (values[minIndex] as number)) minIndex = index;
    if (maxIndex < 0 || value > (values[maxIndex] as number)) maxIndex = index;
  }
  const at = (column: Float64Array, index: number) => (index < 0 ? Number.NaN : (column[index] as number));
  return {
    seq,
    start,
    count: end - start,
    firstStep: at(steps, start),
    firstValue: at(values, start),
    lastStep: at(steps, end - 1),
    lastValue: at(values, end - 1),
    minIndex,
    minStep: at(steps, minIndex),
    minValue: at(values, minIndex),
    maxIndex,
    maxStep: at(steps, maxIndex),
    maxValue: at(values, maxIndex),
    stepLow,
    stepHigh,
  };
}

/** The envelopes of a chunk's segments. */
export function segmentEnvelopes(seq: number, columns: PointColumns): ChunkEnvelope[] {
  const out: ChunkEnvelope[] = [];
  for (let start = 0; start < columns.steps.length; start += SEGMENT_POINTS) {
    out.push(envelopeOf(seq, columns, start, Math.min(columns.steps.length, start + SEGMENT_POINTS)));
  }
  return out;
}

/** One envelope for consecutive envelopes of one chunk (its segments). */
export function foldEnvelopes(parts: readonly ChunkEnvelope[]): ChunkEnvelope {
  const first = parts[0] as ChunkEnvelope;
  const last = parts[parts.length - 1] as ChunkEnvelope;
  const folded: ChunkEnvelope = {
    ...first,
    start: first.start,
    count: 0,
    lastStep: last.lastStep,
    lastValue: last.lastValue,
  };
  folded.minIndex = -1;
  folded.maxIndex = -1;
  for (const part of parts) {
    folded.count += part.count;
    if (part.stepLow < folded.stepLow) folded.stepLow = part.stepLow;
    if (part.stepHigh > folded.stepHigh) folded.stepHigh = part.stepHigh;
    if (part.minIndex >= 0 && (folded.minIndex < 0 || part.minValue < folded.minValue)) {
      folded.minIndex = part.minIndex;
      folded.minStep = part.minStep;
      folded.minValue = part.minValue;
    }
    if (part.maxIndex >= 0 && (folded.maxIndex < 0 || part.maxValue > folded.maxValue)) {
      folded.maxIndex = part.maxIndex;
      folded.maxStep = part.maxStep;
      folded.maxValue = part.maxValue;
    }
  }
  if (folded.minIndex < 0) {
    folded.minStep = Number.NaN;
    folded.minValue = Number.NaN;
    folded.maxStep = Number.NaN;
    folded.maxValue = Number.NaN;
  }
  return folded;
}

/** Packs envelopes into one buffer of float64 fields. */
export function packEnvelopes(envelopes: readonly ChunkEnvelope[]): Buffer {
  const packed = new Float64Array(envelopes.length * FIELDS.length);
  let at = 0;
  for (const envelope of envelopes) for (const field of FIELDS) packed[at++] = envelope[field];
  return Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
}

export function unpackEnvelopes(bytes: Uint8Array): ChunkEnvelope[] {
  const width = FIELDS.length * 8;
  if (bytes.byteLength % width !== 0) return [];
  const all = new Float64Array(bytes.byteLength / 8);
  new Uint8Array(all.buffer).set(bytes);
  const out = new Array<ChunkEnvelope>(all.length / FIELDS.length);
  // One literal of a fixed shape per envelope (in FIELDS' order): a read zoomed to a few
  // million points unpacks up to ~16,000 segment envelopes.
  for (let base = 0, at = 0; base < all.length; base += FIELDS.length, at += 1) {
    out[at] = {
      seq: all[base] as number,
      start: all[base + 1] as number,
      count: all[base + 2] as number,
      firstStep: all[base + 3] as number,
      firstValue: all[base + 4] as number,
      lastStep: all[base + 5] as number,
      lastValue: all[base + 6] as number,
      minIndex: all[base + 7] as number,
      minStep: all[base + 8] as number,
      minValue: all[base + 9] as number,
      maxIndex: all[base + 10] as number,
      maxStep: all[base + 11] as number,
      maxValue: all[base + 12] as number,
      stepLow: all[base + 13] as number,
      stepHigh: all[base + 14] as number,
    };
  }
  return out;
}

/** The group row after `envelopes` (whole chunks') replaced their entries among `previous`. */
export function withChunkEnvelopes(
  previous: readonly ChunkEnvelope[],
  envelopes: readonly ChunkEnvelope[],
): ChunkEnvelope[] {
  const replaced = new Set(envelopes.map((envelope) => envelope.seq));
  const next = previous.filter((each) => !replaced.has(each.seq));
  next.push(...envelopes);
  return next.sort((a, b) => a.seq - b.seq);
}

/** Chunk envelopes by the group they fall in, so that an append reads and writes each group row once. */
export function byGroup(envelopes: readonly ChunkEnvelope[]): Map<number, ChunkEnvelope[]> {
  const groups = new Map<number, ChunkEnvelope[]>();
  for (const envelope of envelopes) {
    const grp = groupOf(envelope.seq);
    const group = groups.get(grp);
    if (group) group.push(envelope);
    else groups.set(grp, [envelope]);
  }
  return groups;
}

export function groupOf(seq: number): number {
  return Math.floor(seq / GROUP_CHUNKS);
}

/**
 * The span envelopes of a group, from its chunk envelopes (`group`, in order) when the series
 * has `chunks` chunks. A span gets one only when every chunk of it that the series holds has an
 * envelope (chunks written before envelopes were kept have none), so a span always stands for
 * the chunks `seq .. min(seq + SPAN_CHUNKS, chunks) - 1`, all of them.
 */
export function spansOf(group: readonly ChunkEnvelope[], chunks: number): ChunkEnvelope[] {
  const spans: ChunkEnvelope[] = [];
  for (let from = 0; from < group.length; ) {
    const first = (group[from] as ChunkEnvelope).seq;
    const spanStart = first - (first % SPAN_CHUNKS);
    const spanEnd = Math.min(spanStart + SPAN_CHUNKS, chunks);
    let to = from;
    while (to < group.length && (group[to] as ChunkEnvelope).seq < spanStart + SPAN_CHUNKS) to += 1;
    const parts = group.slice(from, to);
    const whole = first === spanStart && parts.length === spanEnd - spanStart;
    if (whole && parts.every((part, index) => part.seq === spanStart + index)) spans.push(foldChunks(parts));
    from = to;
  }
  return spans;
}

/** One envelope for the envelopes of consecutive chunks (a span's), in order. */
export function foldChunks(parts: readonly ChunkEnvelope[]): ChunkEnvelope {
  // Each part's extremes are moved to indexes counted from the span's first point.
  let offset = 0;
  const shifted = parts.map((part) => {
    const moved = {
      ...part,
      start: offset,
      minIndex: part.minIndex < 0 ? -1 : offset + part.minIndex,
      maxIndex: part.maxIndex < 0 ? -1 : offset + part.maxIndex,
    };
    offset += part.count;
    return moved;
  });
  return { ...foldEnvelopes(shifted), start: 0 };
}
