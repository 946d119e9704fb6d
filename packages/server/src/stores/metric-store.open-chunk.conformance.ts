/**
 * Conformance cases for the open chunk (the last, while it is not full) under the small appends
 * of live runs: every read between appends, across chunk boundaries, resends, steps out of order,
 * a restart mid-chunk, and downsampled reads equal to those worked out from every point.
 */
import { expect, it } from 'vitest';
import { readDownsampled } from '../services/metrics/downsampled-read.js';
import {
  type ChunkEnvelope,
  envelopeOf,
  GROUP_CHUNKS,
  SPAN_CHUNKS,
  segmentEnvelopes,
  spansOf,
} from './chunk-envelope.js';
import type { MetricStoreSetup } from './metric-store.conformance.js';
import { CHUNK_POINTS, type MetricStore, type PointColumns, type SeriesKey } from './metric-store.js';
import { sliceColumns } from './series-chunks.js';

const live: SeriesKey = { run: 'run-live', type: 'train', name: 'loss' };

/** `count` points of a curve with a spike up, one down and a NaN; steps from `steps` when given. */
function curve(count: number, steps?: (index: number) => number): PointColumns {
  const columns = {
    steps: Float64Array.from({ length: count }, (_, index) => (steps ? steps(index) : index)),
    values: Float64Array.from({ length: count }, (_, index) => Math.sin(index / 37) + (index % 7) / 100),
    epochs: Float64Array.from({ length: count }, (_, index) =>
      index % 3 === 0 ? Math.floor(index / 500) : Number.NaN,
    ),
    times: Float64Array.from({ length: count }, (_, index) => 1_700_000_000_000 + index * 3),
  };
  columns.values[Math.floor(count * 0.3)] = 1e6;
  columns.values[Math.floor(count * 0.7)] = -1e6;
  columns.values[Math.floor(count * 0.5)] = Number.NaN;
  return columns;
}

function chunkOf(all: PointColumns, seq: number, end: number): PointColumns {
  return sliceColumns(all, seq * CHUNK_POINTS, Math.min(end, (seq + 1) * CHUNK_POINTS));
}

/** Appends points `from..to` of `all` in batches of `size`, each at its own offset. */
async function appendInBatches(
  store: MetricStore,
  key: SeriesKey,
  all: PointColumns,
  from: number,
  to: number,
  size: number,
) {
  for (let start = from; start < to; start += size) {
    await store.append([{ key, offset: start, points: sliceColumns(all, start, Math.min(to, start + size)) }]);
  }
}

/** Checks every read of `key` against the first `end` points of `all`. */
async function expectStored(store: MetricStore, key: SeriesKey, all: PointColumns, end: number): Promise<void> {
  const want = sliceColumns(all, 0, end);
  const back = await store.read(key, { withTimes: true });
  expect(Array.from(back.steps)).toEqual(Array.from(want.steps));
  expect(Array.from(back.values)).toEqual(Array.from(want.values));
  expect(Array.from(back.epochs)).toEqual(Array.from(want.epochs));
  expect(Array.from(back.times)).toEqual(Array.from(want.times));
  const chunks = Math.ceil(end / CHUNK_POINTS);
  const last = chunks - 1;
  const lastPoints = chunkOf(all, last, end);
  const [read] = await store.readChunks(key, [last]);
  expect(read?.seq).toBe(last);
  expect(Array.from(read?.columns.steps ?? [])).toEqual(Array.from(lastPoints.steps));
  expect(Array.from(read?.columns.values ?? [])).toEqual(Array.from(lastPoints.values));
  expect(await store.chunkEnvelopes(key, [last])).toEqual([envelopeOf(last, lastPoints)]);
  expect(await store.segmentEnvelopes(key, [last])).toEqual(segmentEnvelopes(last, lastPoints));
  const { chunks: counted, spans } = await store.spanEnvelopes(key);
  expect(counted).toBe(chunks);
  const spanStart = last - (last % SPAN_CHUNKS);
  expect(spans.at(-1)).toEqual(envelopeOf(spanStart, sliceColumns(all, spanStart * CHUNK_POINTS, end)));
  const [summary] = (await store.list(key.run)).filter((each) => each.name === key.name);
  expect(summary?.count).toBe(end);
}

/** An in-memory envelope source over the points themselves, every level worked out from them. */
function sourceOverPoints(all: PointColumns) {
  const count = all.steps.length;
  const chunks = Math.ceil(count / CHUNK_POINTS);
  const parts = Array.from({ length: chunks }, (_, seq) => ({ seq, columns: chunkOf(all, seq, count) }));
  const envelopes = parts.map((part) => envelopeOf(part.seq, part.columns));
  const spans: ChunkEnvelope[] = [];
  for (let first = 0; first < chunks; first += GROUP_CHUNKS) {
    spans.push(...spansOf(envelopes.slice(first, first + GROUP_CHUNKS), chunks));
  }
  const values = (part: (typeof parts)[number]) => ({
    seq: part.seq,
    columns: { ...part.columns, epochs: new Float64Array(0), times: new Float64Array(0) },
  });
  return {
    spanEnvelopes: async () => ({ chunks, spans }),
    chunkEnvelopes: async (_key: SeriesKey, seqs: readonly number[]) =>
      envelopes.filter((envelope) => seqs.includes(envelope.seq)),
    segmentEnvelopes: async (_key: SeriesKey, seqs: readonly number[]) =>
      [...seqs]
        .sort((a, b) => a - b)
        .flatMap((seq) => segmentEnvelopes(seq, (parts[seq] as (typeof parts)[number]).columns)),
    readChunks: async (_key: SeriesKey, seqs: readonly number[]) =>
      seqs.flatMap((seq) => (parts[seq] ? [values(parts[seq])] : [])),
  };
}

/** Registers the open-chunk cases inside an adapter's conformance `describe`. */
export function describeOpenChunkConformance(open: () => Promise<MetricStore>, setup: () => MetricStoreSetup): void {
  it('many small appends across chunk boundaries: every read between them sees every point and exact envelopes', async () => {
    const store = await open();
    const all = curve(2 * CHUNK_POINTS + 300);
    for (let start = 0; start < all.steps.length; start += 97) {
      const end = Math.min(all.steps.length, start + 97);
      const [summary] = await store.append([{ key: live, offset: start, points: sliceColumns(all, start, end) }]);
      expect(summary?.count).toBe(end);
      // Every read each time near the boundaries, every fifth append elsewhere (time).
      const nearBoundary = end % CHUNK_POINTS < 200 || end % CHUNK_POINTS > CHUNK_POINTS - 200;
      if (nearBoundary || (start / 97) % 5 === 0 || end === all.steps.length) await expectStored(store, live, all, end);
    }
    const [summary] = await store.list(live.run);
    expect(summary).toMatchObject({ min: -1e6, max: 1e6, firstStep: 0, lastStep: all.steps.length - 1 });
  });

  it('lands resent and overlapping batches inside the open chunk once, and keeps steps out of order as sent', async () => {
    const store = await open();
    // Steps go down, repeat and jump: the store keeps them in the order sent.
    const all = curve(CHUNK_POINTS + 900, (index) => (index % 50 === 0 ? 5 : 10_000 - index));
    const send = (from: number, to: number) =>
      store.append([{ key: live, offset: from, points: sliceColumns(all, from, to) }]);
    await send(0, 300);
    await send(0, 300);
    await send(100, 700);
    await send(650, 650 + 40);
    // A resend that crosses into the next chunk, then one wholly inside what is stored.
    await send(500, CHUNK_POINTS + 10);
    await send(CHUNK_POINTS - 5, CHUNK_POINTS + 5);
    const [summary] = await send(CHUNK_POINTS + 10, CHUNK_POINTS + 900);
    expect(summary).toMatchObject({ count: CHUNK_POINTS + 900, firstStep: 5, lastStep: 10_000 - 1 });
    await expectStored(store, live, all, CHUNK_POINTS + 900);
    const [first] = await store.chunkEnvelopes(live, [0]);
    expect(first).toMatchObject({ stepLow: 5, stepHigh: 9_999, firstStep: 5, lastStep: 10_000 - (CHUNK_POINTS - 1) });
    // A gap past the open chunk is refused and changes nothing.
    await expect(send(CHUNK_POINTS + 901, CHUNK_POINTS + 950)).rejects.toMatchObject({ name: 'Conflict' });
    await expectStored(store, live, all, CHUNK_POINTS + 900);
  });

  it('reopens in the middle of an open chunk and goes on appending to it', async () => {
    let store = await open();
    const all = curve(3 * CHUNK_POINTS + 77);
    await appendInBatches(store, live, all, 0, CHUNK_POINTS + 1000, 333);
    store = await setup().reopen();
    await expectStored(store, live, all, CHUNK_POINTS + 1000);
    await appendInBatches(store, live, all, CHUNK_POINTS + 1000, 2 * CHUNK_POINTS + 5, 250);
    store = await setup().reopen();
    await appendInBatches(store, live, all, 2 * CHUNK_POINTS + 5, all.steps.length, 1111);
    await expectStored(store, live, all, all.steps.length);
    await store.removeRun(live.run);
    expect((await store.read(live)).steps.length).toBe(0);
    expect(await store.spanEnvelopes(live)).toEqual({ chunks: 0, spans: [] });
    expect(await store.readChunks(live, [0, 1, 2, 3])).toEqual([]);
    await store.append([{ key: live, offset: 0, points: sliceColumns(all, 0, 10) }]);
    await expectStored(store, live, all, 10);
  });

  it('answers downsampled reads of a series appended in small batches as those worked out from every point', async () => {
    const store = await open();
    const all = curve((SPAN_CHUNKS + 3) * CHUNK_POINTS + 1234);
    await appendInBatches(store, live, all, 0, all.steps.length, 1000);
    const reference = sourceOverPoints(all);
    const count = all.steps.length;
    for (const range of [{}, { fromStep: 5000, toStep: 40_000 }, { fromStep: count - 3000 }]) {
      // Spans, chunks, segments and every point in turn.
      for (const target of [12, 60, 400, 4000, 100_000]) {
        expect(await readDownsampled(store, live, range, target)).toEqual(
          await readDownsampled(reference, live, range, target),
        );
      }
    }
    const whole = await readDownsampled(store, live, {}, count);
    expect(whole.downsampled).toBe(false);
    expect(whole.steps).toEqual(Array.from(all.steps));
    expect(whole.values).toEqual(Array.from(all.values, (value) => (Number.isNaN(value) ? null : value)));
  });
}
