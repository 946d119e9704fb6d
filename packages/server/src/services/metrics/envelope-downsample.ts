/**
 * Downsampling a long series from envelopes (`stores/chunk-envelope.ts`): when a chart's
 * buckets each span two chunks or more, a bucket's extremes are among its chunks' extremes;
 * when they span two 256-point segments or more, among its segments'. So those chunks' points
 * are never read; only chunks the zoom cuts through (or written before envelopes were kept)
 * are. The answer keeps what `minMaxIndexes` keeps (each bucket's lowest and highest value in
 * order, and the range's two ends), with buckets of whole envelopes.
 */
import type { ChunkEnvelope } from '../../stores/chunk-envelope.js';
import { SEGMENT_POINTS } from '../../stores/chunk-envelope.js';
import { CHUNK_POINTS, type PointColumns } from '../../stores/metric-store.js';

export interface StepRange {
  fromStep?: number | undefined;
  toStep?: number | undefined;
}

export interface EnvelopePlan {
  /**
   * `chunks`: chunks inside the range stand for themselves; `segments`: their segments' envelopes
   * must be fetched to stand for them; `exact`: few enough points to read them all.
   */
  mode: 'chunks' | 'segments' | 'exact';
  /** Envelopes wholly inside the range (of chunks, or, once fetched, of their segments). */
  inside: ChunkEnvelope[];
  /** Chunks to read point by point (cut by the range, or without an envelope). */
  read: number[];
  buckets: number;
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

function bucketsFor(target: number): number {
  return Math.floor((Math.max(4, target) - 2) / 2);
}

/** Which chunks to use how: envelopes where a bucket spans two chunks or more, else every point of the chunks in range. */
export function planEnvelopeRead(
  chunks: number,
  envelopes: readonly ChunkEnvelope[],
  range: StepRange,
  target: number,
): EnvelopePlan {
  const from = range.fromStep ?? Number.NEGATIVE_INFINITY;
  const to = range.toStep ?? Number.POSITIVE_INFINITY;
  const bySeq = new Array<ChunkEnvelope | undefined>(chunks);
  for (const envelope of envelopes) if (envelope.seq >= 0 && envelope.seq < chunks) bySeq[envelope.seq] = envelope;
  const inside: ChunkEnvelope[] = [];
  const read: number[] = [];
  let points = 0;
  for (let seq = 0; seq < chunks; seq += 1) {
    const envelope = bySeq[seq];
    if (!envelope) {
      read.push(seq);
      points += CHUNK_POINTS;
    } else if (envelope.stepHigh < from || envelope.stepLow > to) {
      // Wholly outside the range.
    } else if (envelope.stepLow >= from && envelope.stepHigh <= to) {
      inside.push(envelope);
      points += envelope.count;
    } else {
      read.push(seq);
      points += envelope.count;
    }
  }
  const buckets = bucketsFor(target);
  if (points >= buckets * 2 * CHUNK_POINTS) return { mode: 'chunks', inside, read, buckets };
  if (points >= buckets * 2 * SEGMENT_POINTS) return { mode: 'segments', inside, read, buckets };
  // Short enough to read every point: but only of the chunks the range touches.
  const all = [...inside.map((envelope) => envelope.seq), ...read].sort((a, b) => a - b);
  return { mode: 'exact', inside: [], read: all, buckets };
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

/** The downsampled series from the plan's envelopes and the chunks it had read. */
export function downsampleFromEnvelopes(
  plan: EnvelopePlan,
  readChunks: readonly { seq: number; columns: PointColumns }[],
  range: StepRange,
): Downsampled {
  const from = range.fromStep ?? Number.NEGATIVE_INFINITY;
  const to = range.toStep ?? Number.POSITIVE_INFINITY;
  type Segment =
    | { seq: number; start: number; envelope: ChunkEnvelope }
    | { seq: number; start: number; points: Candidate[] };
  const segments: Segment[] = plan.inside.map((envelope) => ({ seq: envelope.seq, start: envelope.start, envelope }));
  for (const { seq, columns } of readChunks) {
    const points: Candidate[] = [];
    for (let index = 0; index < columns.steps.length; index += 1) {
      const step = columns.steps[index] as number;
      if (step >= from && step <= to) points.push({ seq, index, step, value: columns.values[index] as number });
    }
    if (points.length > 0) segments.push({ seq, start: 0, points });
  }
  segments.sort((a, b) => a.seq - b.seq || a.start - b.start);
  const count = segments.reduce(
    (sum, segment) => sum + ('envelope' in segment ? segment.envelope.count : segment.points.length),
    0,
  );
  const lows: (Candidate | undefined)[] = new Array(plan.buckets);
  const highs: (Candidate | undefined)[] = new Array(plan.buckets);
  const gaps: (Candidate | undefined)[] = new Array(plan.buckets);
  // Candidates are made only when they win their bucket: a full-zoom read of a huge series
  // offers two per chunk envelope (tens of thousands).
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
  for (const segment of segments) {
    if ('envelope' in segment) {
      const { envelope, seq } = segment;
      const bucket = Math.min(plan.buckets - 1, Math.floor((position * plan.buckets) / count));
      if (envelope.minIndex >= 0) {
        offer(bucket, seq, envelope.minIndex, envelope.minStep, envelope.minValue);
        offer(bucket, seq, envelope.maxIndex, envelope.maxStep, envelope.maxValue);
      } else offer(bucket, seq, envelope.start, envelope.firstStep, envelope.firstValue);
      first ??= { seq, index: envelope.start, step: envelope.firstStep, value: envelope.firstValue };
      lastEnvelope = envelope;
      lastPoint = undefined;
      position += envelope.count;
    } else {
      for (const point of segment.points) {
        offer(
          Math.min(plan.buckets - 1, Math.floor((position * plan.buckets) / count)),
          point.seq,
          point.index,
          point.step,
          point.value,
        );
        first ??= point;
        lastPoint = point;
        lastEnvelope = undefined;
        position += 1;
      }
    }
  }
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
  for (let bucket = 0; bucket < plan.buckets; bucket += 1) {
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
