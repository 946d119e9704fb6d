/**
 * Downsampling a long series from envelopes (`stores/chunk-envelope.ts`): when each of a
 * chart's buckets is at least as wide as a level's envelopes (spans, chunks or 256-point
 * segments), a bucket's extremes are among its envelopes' extremes. So the points of envelopes
 * wholly inside the range are never read; only chunks the zoom cuts through (or written before
 * envelopes were kept) are. The answer keeps what `minMaxIndexes` keeps (each bucket's lowest
 * and highest value in order, and the range's two ends), with buckets of whole envelopes.
 */
import type { ChunkEnvelope } from '../../stores/chunk-envelope.js';
import { SPAN_CHUNKS } from '../../stores/chunk-envelope.js';
import type { PointColumns } from '../../stores/metric-store.js';

export interface StepRange {
  fromStep?: number | undefined;
  toStep?: number | undefined;
}

/** Envelopes by where they lie against a step range. */
export interface RangeSplit {
  /** Envelopes wholly inside the range. */
  inside: ChunkEnvelope[];
  /** Chunks to look at closer: cut by the range, or without an envelope. */
  closer: number[];
}

export interface Downsampled {
  count: number;
  downsampled: boolean;
  steps: number[];
  values: (number | null)[];
}

interface Candidate {
  seq: number;
  index: number;
  step: number;
  value: number;
}

export function bucketsFor(target: number): number {
  return Math.floor((Math.max(4, target) - 2) / 2);
}

/**
 * Splits a series' spans against a range: spans wholly inside stand for their chunks; the
 * chunks of spans the range cuts, and of spans without an envelope, are to be looked at closer.
 */
export function splitSpans(chunks: number, spans: readonly ChunkEnvelope[], range: StepRange): RangeSplit {
  const bySpan = new Map<number, ChunkEnvelope>();
  for (const span of spans) if (span.seq % SPAN_CHUNKS === 0 && span.seq < chunks) bySpan.set(span.seq, span);
  const split: RangeSplit = { inside: [], closer: [] };
  for (let first = 0; first < chunks; first += SPAN_CHUNKS) {
    const span = bySpan.get(first);
    const where = span ? placeOf(span, range) : 'cut';
    if (where === 'inside') split.inside.push(span as ChunkEnvelope);
    if (where !== 'cut') continue;
    for (let seq = first; seq < Math.min(first + SPAN_CHUNKS, chunks); seq += 1) split.closer.push(seq);
  }
  return split;
}

/** Splits the chunks numbered `seqs` against a range, from the envelopes they have. */
export function splitChunks(
  seqs: readonly number[],
  envelopes: readonly ChunkEnvelope[],
  range: StepRange,
): RangeSplit {
  const bySeq = new Map(envelopes.map((envelope) => [envelope.seq, envelope]));
  const split: RangeSplit = { inside: [], closer: [] };
  for (const seq of seqs) {
    const envelope = bySeq.get(seq);
    const where = envelope ? placeOf(envelope, range) : 'cut';
    if (where === 'inside') split.inside.push(envelope as ChunkEnvelope);
    if (where === 'cut') split.closer.push(seq);
  }
  return split;
}

function placeOf(envelope: ChunkEnvelope, range: StepRange): 'inside' | 'outside' | 'cut' {
  const from = range.fromStep ?? Number.NEGATIVE_INFINITY;
  const to = range.toStep ?? Number.POSITIVE_INFINITY;
  if (envelope.stepHigh < from || envelope.stepLow > to) return 'outside';
  if (envelope.stepLow >= from && envelope.stepHigh <= to) return 'inside';
  return 'cut';
}

/** The points of the range, from the chunks read (for the exact path). */
export function pointsInRange(
  readChunks: readonly { seq: number; columns: PointColumns }[],
  range: StepRange,
): { steps: Float64Array; values: Float64Array } {
  const from = range.fromStep ?? Number.NEGATIVE_INFINITY;
  const to = range.toStep ?? Number.POSITIVE_INFINITY;
  const ordered = [...readChunks].sort((a, b) => a.seq - b.seq);
  let total = 0;
  for (const { columns } of ordered) total += columns.steps.length;
  const steps = new Float64Array(total);
  const values = new Float64Array(total);
  let size = 0;
  for (const { columns } of ordered) {
    for (let index = 0; index < columns.steps.length; index += 1) {
      const step = columns.steps[index] as number;
      if (step < from || step > to) continue;
      steps[size] = step;
      values[size] = columns.values[index] as number;
      size += 1;
    }
  }
  return { steps: steps.subarray(0, size), values: values.subarray(0, size) };
}

/**
 * The downsampled series, in `buckets` buckets, from envelopes wholly inside the range (of any
 * level, none wider than a bucket, none overlapping another) and the chunks read point by point.
 */
export function downsampleFromEnvelopes(
  inside: readonly ChunkEnvelope[],
  buckets: number,
  readChunks: readonly { seq: number; columns: PointColumns }[],
  range: StepRange,
): Downsampled {
  const from = range.fromStep ?? Number.NEGATIVE_INFINITY;
  const to = range.toStep ?? Number.POSITIVE_INFINITY;
  // Envelopes come in series order from the store; the chunks read are few.
  const envelopes = inOrder(inside) ? inside : [...inside].sort((x, y) => x.seq - y.seq || x.start - y.start);
  const chunks = readChunks
    .map(({ seq, columns }) => ({ seq, columns, kept: indexesInRange(columns.steps, from, to) }))
    .filter((chunk) => chunk.kept.length > 0)
    .sort((x, y) => x.seq - y.seq);
  let count = 0;
  for (const envelope of envelopes) count += envelope.count;
  for (const chunk of chunks) count += chunk.kept.length;
  const lows: (Candidate | undefined)[] = new Array(buckets);
  const highs: (Candidate | undefined)[] = new Array(buckets);
  const gaps: (Candidate | undefined)[] = new Array(buckets);
  // Candidates are made only when they win their bucket: a read offers two per envelope
  // (up to tens of thousands of segments).
  const offer = (bucket: number, seq: number, index: number, step: number, value: number) => {
    if (!Number.isFinite(value)) {
      gaps[bucket] ??= { seq, index, step, value };
      return;
    }
    const low = lows[bucket];
    const high = highs[bucket];
    if (!low || value < low.value) lows[bucket] = { seq, index, step, value };
    if (!high || value > high.value) highs[bucket] = { seq, index, step, value };
  };
  let position = 0;
  let first: Candidate | undefined;
  let lastEnvelope: ChunkEnvelope | undefined;
  let lastPoint: Candidate | undefined;
  const takeEnvelope = (envelope: ChunkEnvelope) => {
    const { seq } = envelope;
    const bucket = Math.min(buckets - 1, Math.floor((position * buckets) / count));
    if (envelope.minIndex >= 0) {
      offer(bucket, seq, envelope.minIndex, envelope.minStep, envelope.minValue);
      offer(bucket, seq, envelope.maxIndex, envelope.maxStep, envelope.maxValue);
    } else offer(bucket, seq, envelope.start, envelope.firstStep, envelope.firstValue);
    first ??= { seq, index: envelope.start, step: envelope.firstStep, value: envelope.firstValue };
    lastEnvelope = envelope;
    lastPoint = undefined;
    position += envelope.count;
  };
  // A read chunk is never one an envelope stands for, so comparing chunk numbers orders them.
  let next = 0;
  for (const { seq, columns, kept } of chunks) {
    while (next < envelopes.length && (envelopes[next] as ChunkEnvelope).seq < seq) {
      takeEnvelope(envelopes[next] as ChunkEnvelope);
      next += 1;
    }
    for (const index of kept) {
      const step = columns.steps[index] as number;
      const value = columns.values[index] as number;
      offer(Math.min(buckets - 1, Math.floor((position * buckets) / count)), seq, index, step, value);
      first ??= { seq, index, step, value };
      position += 1;
    }
    const index = kept[kept.length - 1] as number;
    lastPoint = { seq, index, step: columns.steps[index] as number, value: columns.values[index] as number };
    lastEnvelope = undefined;
  }
  for (; next < envelopes.length; next += 1) takeEnvelope(envelopes[next] as ChunkEnvelope);
  const last: Candidate | undefined =
    lastPoint ??
    (lastEnvelope && {
      seq: lastEnvelope.seq,
      index: lastEnvelope.start + lastEnvelope.count - 1,
      step: lastEnvelope.lastStep,
      value: lastEnvelope.lastValue,
    });
  const picked: Candidate[] = [];
  for (const candidate of [first, last, ...lows, ...highs]) if (candidate) picked.push(candidate);
  // A bucket of nothing but gaps shows one, as the exact path does.
  for (let bucket = 0; bucket < buckets; bucket += 1) {
    const gap = gaps[bucket];
    if (gap && !lows[bucket]) picked.push(gap);
  }
  picked.sort((a, b) => a.seq - b.seq || a.index - b.index);
  const steps: number[] = [];
  const values: (number | null)[] = [];
  let previous: Candidate | undefined;
  for (const candidate of picked) {
    if (previous && previous.seq === candidate.seq && previous.index === candidate.index) continue;
    steps.push(candidate.step);
    values.push(Number.isNaN(candidate.value) ? null : candidate.value);
    previous = candidate;
  }
  return { count, downsampled: steps.length < count, steps, values };
}

function inOrder(envelopes: readonly ChunkEnvelope[]): boolean {
  for (let index = 1; index < envelopes.length; index += 1) {
    const previous = envelopes[index - 1] as ChunkEnvelope;
    const envelope = envelopes[index] as ChunkEnvelope;
    if (envelope.seq < previous.seq || (envelope.seq === previous.seq && envelope.start < previous.start)) return false;
  }
  return true;
}

function indexesInRange(steps: Float64Array, from: number, to: number): Uint32Array {
  const kept = new Uint32Array(steps.length);
  let size = 0;
  for (let index = 0; index < steps.length; index += 1) {
    const step = steps[index] as number;
    if (step >= from && step <= to) kept[size++] = index;
  }
  return kept.subarray(0, size);
}
