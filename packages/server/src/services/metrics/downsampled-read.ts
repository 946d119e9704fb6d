/**
 * A chart's read of a series: downsampled to a target number of points from the coarsest
 * envelope level whose envelopes are no wider than a bucket (spans, then chunks, then 256-point
 * segments), or from the points themselves when the range is short. So a read touches a few
 * thousand envelopes at any zoom, however long the series, and the chunks the zoom cuts.
 *
 * @example
 * const answer = await readDownsampled(metrics, key, { fromStep: 1000 }, 2000);
 */
import { SEGMENT_POINTS, SPAN_CHUNKS } from '../../stores/chunk-envelope.js';
import { CHUNK_POINTS, type MetricStore, type SeriesKey } from '../../stores/metric-store.js';
import { minMaxIndexes, pick } from './downsample.js';
import {
  bucketsFor,
  type Downsampled,
  downsampleFromEnvelopes,
  pointsInRange,
  type StepRange,
  splitChunks,
  splitSpans,
} from './envelope-downsample.js';

/** What a downsampled read asks of the metric store. */
export type EnvelopeSource = Pick<MetricStore, 'spanEnvelopes' | 'chunkEnvelopes' | 'segmentEnvelopes' | 'readChunks'>;

const SPAN_POINTS = SPAN_CHUNKS * CHUNK_POINTS;

export async function readDownsampled(
  store: EnvelopeSource,
  key: SeriesKey,
  range: StepRange,
  target: number,
): Promise<Downsampled> {
  const buckets = bucketsFor(target);
  const { chunks, spans } = await store.spanEnvelopes(key);
  const bySpans = splitSpans(chunks, spans, range);
  // The chunks of spans the range cuts (two at most for steps in order) are split in turn.
  const byChunks = splitChunks(bySpans.closer, await store.chunkEnvelopes(key, bySpans.closer), range);
  // The cut chunks are read whatever the level, and counted exactly: so no envelope chosen
  // is wider than a bucket, and every bucket gets one.
  const cut = await store.readChunks(key, byChunks.closer);
  const cutPoints = pointsInRange(cut, range).steps.length;
  const spanPoints = bySpans.inside.reduce((sum, span) => sum + span.count, 0);
  const chunkPoints = byChunks.inside.reduce((sum, envelope) => sum + envelope.count, 0);
  const bucketPoints = (spanPoints + chunkPoints + cutPoints) / buckets;
  if (bucketPoints >= SPAN_POINTS) {
    return downsampleFromEnvelopes([...bySpans.inside, ...byChunks.inside], buckets, cut, range);
  }
  // Spans are wider than a bucket: their chunks stand for them (a span has no chunk without an envelope).
  const spanSeqs = bySpans.inside.flatMap((span) =>
    Array.from({ length: Math.min(SPAN_CHUNKS, chunks - span.seq) }, (_, index) => span.seq + index),
  );
  if (bucketPoints >= CHUNK_POINTS) {
    const inside = [...byChunks.inside, ...(await store.chunkEnvelopes(key, spanSeqs))];
    return downsampleFromEnvelopes(inside, buckets, cut, range);
  }
  const insideSeqs = [...byChunks.inside.map((envelope) => envelope.seq), ...spanSeqs];
  if (bucketPoints >= SEGMENT_POINTS) {
    return downsampleFromEnvelopes(await store.segmentEnvelopes(key, insideSeqs), buckets, cut, range);
  }
  // Short enough to read every point: but only of the chunks the range touches.
  const whole = await store.readChunks(key, insideSeqs);
  const { steps, values } = pointsInRange([...whole, ...cut], range);
  const indexes = minMaxIndexes(values, target);
  return {
    count: steps.length,
    downsampled: indexes.length < steps.length,
    steps: pick(steps, indexes),
    values: pick(values, indexes).map((value) => (Number.isNaN(value) ? null : value)),
  };
}
