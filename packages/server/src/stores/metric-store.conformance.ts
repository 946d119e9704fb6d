/**
 * The metric store conformance suite: every adapter runs it unchanged. Chunk boundaries,
 * exactly-once appends, summaries, ranges, atomicity and persistence; the open chunk under
 * small appends (`metric-store.open-chunk.conformance.ts`).
 */
import { LarderError } from '@larder/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { readDownsampled } from '../services/metrics/downsampled-read.js';
import { envelopeOf, foldEnvelopes, GROUP_CHUNKS, SEGMENT_POINTS, SPAN_CHUNKS } from './chunk-envelope.js';
import { CHUNK_POINTS, type MetricStore, type PointColumns, type SeriesKey } from './metric-store.js';
import { describeOpenChunkConformance } from './metric-store.open-chunk.conformance.js';
import { concatColumns } from './series-chunks.js';

export interface MetricStoreSetup {
  store: MetricStore;
  /** Closes and opens the store over the same data. */
  reopen(): Promise<MetricStore>;
  cleanup(): Promise<void>;
}

function points(count: number, start = 0, epochEvery = 0): PointColumns {
  const columns = {
    steps: new Float64Array(count),
    values: new Float64Array(count),
    epochs: new Float64Array(count),
    times: new Float64Array(count),
  };
  for (let index = 0; index < count; index += 1) {
    const step = start + index;
    columns.steps[index] = step;
    columns.values[index] = Math.sin(step / 10) * 100 + step / 1000;
    columns.epochs[index] = epochEvery > 0 ? Math.floor(step / epochEvery) : Number.NaN;
    columns.times[index] = 1_700_000_000_000 + step * 10;
  }
  return columns;
}

export function describeMetricStoreConformance(name: string, make: () => Promise<MetricStoreSetup>): void {
  describe(`metric store conformance: ${name}`, () => {
    let setup: MetricStoreSetup | undefined;
    afterEach(async () => {
      await setup?.cleanup();
      setup = undefined;
    });
    async function open(): Promise<MetricStore> {
      setup = await make();
      await setup.store.open();
      return setup.store;
    }
    const loss: SeriesKey = { run: 'run-1', type: 'train', name: 'loss' };
    describeOpenChunkConformance(open, () => setup as MetricStoreSetup);

    it('keeps an envelope per chunk that matches its points, through appends that refill the open chunk', async () => {
      const store = await open();
      // Three appends: the open chunk is rewritten twice, and its envelope with it.
      await store.append([{ key: loss, offset: 0, points: points(CHUNK_POINTS - 10) }]);
      await store.append([{ key: loss, offset: 'end', points: points(CHUNK_POINTS + 30, CHUNK_POINTS - 10) }]);
      const spike = points(5, CHUNK_POINTS * 2 + 20);
      spike.values[2] = 1e9;
      spike.values[3] = Number.NaN;
      await store.append([{ key: loss, offset: 'end', points: spike }]);
      expect((await store.spanEnvelopes(loss)).chunks).toBe(3);
      const envelopes = await store.chunkEnvelopes(loss, [2, 0, 1, 7]);
      expect(envelopes.map((each) => each.seq)).toEqual([0, 1, 2]);
      const read = await store.readChunks(loss, [2, 0, 1, 7]);
      expect(read.map((each) => each.seq)).toEqual([2, 0, 1]);
      for (const envelope of envelopes) {
        const chunk = read.find((each) => each.seq === envelope.seq)?.columns as PointColumns;
        const values = Array.from(chunk.values);
        const finite = values.filter(Number.isFinite);
        expect(envelope.count).toBe(values.length);
        expect(envelope.minValue).toBe(Math.min(...finite));
        expect(envelope.maxValue).toBe(Math.max(...finite));
        expect(chunk.values[envelope.maxIndex]).toBe(envelope.maxValue);
        expect(chunk.steps[envelope.minIndex]).toBe(envelope.minStep);
        expect(envelope.firstStep).toBe(chunk.steps[0]);
        expect(envelope.lastStep).toBe(chunk.steps[chunk.steps.length - 1]);
        expect(envelope.stepLow).toBe(Math.min(...Array.from(chunk.steps)));
        expect(envelope.stepHigh).toBe(Math.max(...Array.from(chunk.steps)));
      }
      expect(envelopes[2]?.maxValue).toBe(1e9);
      // Each chunk's segments fold into its envelope.
      const segments = await store.segmentEnvelopes(loss, [1, 0]);
      expect(segments.map((each) => [each.seq, each.start])).toEqual([
        ...Array.from({ length: CHUNK_POINTS / SEGMENT_POINTS }, (_, index) => [0, index * SEGMENT_POINTS]),
        ...Array.from({ length: CHUNK_POINTS / SEGMENT_POINTS }, (_, index) => [1, index * SEGMENT_POINTS]),
      ]);
      expect(foldEnvelopes(segments.filter((each) => each.seq === 1))).toEqual(envelopes[1]);
      await store.removeRun(loss.run);
      expect(await store.spanEnvelopes(loss)).toEqual({ chunks: 0, spans: [] });
      expect(await store.chunkEnvelopes(loss, [0, 1, 2])).toEqual([]);
    });

    it('keeps an envelope per span that matches its chunks, through appends across spans and groups', async () => {
      const store = await open();
      // Batches of odd sizes: the open chunk and the open span are rewritten again and again,
      // and the last batch crosses into a second group.
      const total = GROUP_CHUNKS * CHUNK_POINTS + 3 * CHUNK_POINTS + 77;
      const sent = points(total);
      sent.values[5 * CHUNK_POINTS + 3] = 1e9;
      sent.values[SPAN_CHUNKS * CHUNK_POINTS + 1] = -1e9;
      sent.values[7] = Number.NaN;
      for (const [start, end] of [
        [0, 1000],
        [1000, SPAN_CHUNKS * CHUNK_POINTS + 10],
        [SPAN_CHUNKS * CHUNK_POINTS + 10, total],
      ] as const) {
        const slice = (column: Float64Array) => column.subarray(start, end);
        const batch = {
          steps: slice(sent.steps),
          values: slice(sent.values),
          epochs: slice(sent.epochs),
          times: slice(sent.times),
        };
        await store.append([{ key: loss, offset: start, points: batch }]);
      }
      const { chunks, spans } = await store.spanEnvelopes(loss);
      expect(chunks).toBe(GROUP_CHUNKS + 4);
      const spanStarts = Array.from({ length: Math.ceil(chunks / SPAN_CHUNKS) }, (_, index) => index * SPAN_CHUNKS);
      expect(spans.map((span) => span.seq)).toEqual(spanStarts);
      const read = await store.readChunks(
        loss,
        Array.from({ length: chunks }, (_, seq) => seq),
      );
      for (const span of spans) {
        const columns = concatColumns(read.slice(span.seq, span.seq + SPAN_CHUNKS).map((each) => each.columns));
        expect(span).toEqual(envelopeOf(span.seq, columns));
      }
      expect(spans[0]?.maxValue).toBe(1e9);
      expect(spans[0]?.maxStep).toBe(5 * CHUNK_POINTS + 3);
      expect(spans[1]?.minValue).toBe(-1e9);
      expect(spans.at(-1)?.count).toBe(total - GROUP_CHUNKS * CHUNK_POINTS);
    });

    it('reads a long series whole from its spans: a one-point spike shows, and so do points appended since', async () => {
      const store = await open();
      const asked: number[][] = [];
      const source = {
        spanEnvelopes: (key: SeriesKey) => store.spanEnvelopes(key),
        segmentEnvelopes: (key: SeriesKey, seqs: readonly number[]) => store.segmentEnvelopes(key, seqs),
        chunkEnvelopes: (key: SeriesKey, seqs: readonly number[]) => {
          asked.push([...seqs]);
          return store.chunkEnvelopes(key, seqs);
        },
        readChunks: (key: SeriesKey, seqs: readonly number[]) => {
          asked.push([...seqs]);
          return store.readChunks(key, seqs);
        },
      };
      const count = (GROUP_CHUNKS + 6) * CHUNK_POINTS;
      const sent = points(count);
      sent.values[200_003] = 1e6;
      sent.values[12_345] = -1e6;
      await store.append([{ key: loss, offset: 0, points: sent }]);
      // Eight buckets, each wider than a span: the spans alone answer.
      const whole = await readDownsampled(source, loss, {}, 18);
      expect(asked.every((seqs) => seqs.length === 0)).toBe(true);
      expect(whole.count).toBe(count);
      expect(whole.steps[0]).toBe(0);
      expect(whole.steps.at(-1)).toBe(count - 1);
      expect(whole.steps[whole.values.indexOf(1e6)]).toBe(200_003);
      expect(whole.steps[whole.values.indexOf(-1e6)]).toBe(12_345);
      // An append while the run is live: half a chunk with a higher spike.
      const more = points(CHUNK_POINTS / 2, count);
      more.values[100] = 2e6;
      await store.append([{ key: loss, offset: 'end', points: more }]);
      const after = await readDownsampled(source, loss, {}, 18);
      expect(after.count).toBe(count + CHUNK_POINTS / 2);
      expect(after.steps.at(-1)).toBe(count + CHUNK_POINTS / 2 - 1);
      expect(after.steps[after.values.indexOf(2e6)]).toBe(count + 100);
      expect(after.values).toContain(1e6);
      // Zoomed to a window: the same spike from finer envelopes, nothing outside the window.
      const zoom = await readDownsampled(source, loss, { fromStep: 150_000, toStep: 250_000 }, 18);
      expect(zoom.count).toBe(100_001);
      expect(zoom.steps[zoom.values.indexOf(1e6)]).toBe(200_003);
      expect(Math.min(...zoom.steps)).toBe(150_000);
      expect(Math.max(...zoom.steps)).toBe(250_000);
    });

    it('round-trips a series across chunk boundaries, with epochs and times', async () => {
      const store = await open();
      const sent = points(CHUNK_POINTS * 2 + 123, 0, 100);
      const [summary] = await store.append([{ key: loss, offset: 0, points: sent }]);
      expect(summary?.count).toBe(sent.steps.length);
      const back = await store.read(loss, { withTimes: true });
      expect(Array.from(back.steps)).toEqual(Array.from(sent.steps));
      expect(Array.from(back.values)).toEqual(Array.from(sent.values));
      expect(Array.from(back.epochs)).toEqual(Array.from(sent.epochs));
      expect(Array.from(back.times)).toEqual(Array.from(sent.times));
      const valuesOnly = await store.read(loss);
      expect(Array.from(valuesOnly.values)).toEqual(Array.from(sent.values));
    });

    it('many small appends read back as one series', async () => {
      const store = await open();
      const all = points(CHUNK_POINTS + 500);
      for (let start = 0; start < all.steps.length; start += 97) {
        const end = Math.min(start + 97, all.steps.length);
        await store.append([
          {
            key: loss,
            offset: start,
            points: {
              steps: all.steps.subarray(start, end),
              values: all.values.subarray(start, end),
              epochs: all.epochs.subarray(start, end),
              times: all.times.subarray(start, end),
            },
          },
        ]);
      }
      const back = await store.read(loss, { withTimes: true });
      expect(Array.from(back.steps)).toEqual(Array.from(all.steps));
      expect(Array.from(back.epochs).every(Number.isNaN)).toBe(true);
    });

    it('appends exactly once: a resent or overlapping batch adds only what is new', async () => {
      const store = await open();
      await store.append([{ key: loss, offset: 0, points: points(100) }]);
      const [again] = await store.append([{ key: loss, offset: 0, points: points(100) }]);
      expect(again?.count).toBe(100);
      const [overlap] = await store.append([{ key: loss, offset: 50, points: points(100, 50) }]);
      expect(overlap?.count).toBe(150);
      expect(Array.from((await store.read(loss)).steps)).toEqual(Array.from(points(150).steps));
    });

    it("appends at the end when the offset is 'end', so concurrent writers without offsets all land", async () => {
      const store = await open();
      await store.append([{ key: loss, offset: 'end', points: points(3) }]);
      // Twenty single points sent at once, each knowing nothing of the others.
      await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          store.append([{ key: loss, offset: 'end', points: points(1, 100 + index) }]),
        ),
      );
      const back = await store.read(loss);
      expect(back.steps.length).toBe(23);
      expect(Array.from(back.steps.subarray(0, 3))).toEqual([0, 1, 2]);
      expect(Array.from(back.steps.subarray(3)).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 20 }, (_, index) => 100 + index),
      );
      const [summary] = await store.append([{ key: loss, offset: 'end', points: points(1, 7) }]);
      expect(summary?.count).toBe(24);
      expect((await store.read(loss)).steps.at(-1)).toBe(7);
    });

    it('refuses a gap with Conflict and stores nothing of that call', async () => {
      const store = await open();
      const other: SeriesKey = { run: 'run-1', type: 'val', name: 'accuracy' };
      await store.append([{ key: loss, offset: 0, points: points(10) }]);
      const error = await store
        .append([
          { key: other, offset: 0, points: points(5) },
          { key: loss, offset: 20, points: points(5, 20) },
        ])
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(LarderError);
      expect(error).toMatchObject({ name: 'Conflict', data: { count: 10 } });
      expect((await store.read(other)).steps.length).toBe(0);
      expect((await store.list('run-1')).map((each) => each.name)).toEqual(['loss']);
    });

    it('summarises each series: count, steps, last, min and max ignoring NaN, last epoch', async () => {
      const store = await open();
      const sent = points(5, 10, 2);
      sent.values.set([3, Number.NaN, -2, 7, 1]);
      await store.append([{ key: loss, offset: 0, points: sent }]);
      await store.append([
        { key: { run: 'run-1', type: 'val', name: 'acc' }, offset: 0, points: points(3) },
        { key: { run: 'run-2', type: 'train', name: 'loss' }, offset: 0, points: points(1) },
      ]);
      const list = await store.list('run-1');
      expect(list.map((each) => `${each.type}/${each.name}`)).toEqual(['train/loss', 'val/acc']);
      expect(list[0]).toMatchObject({
        run: 'run-1',
        count: 5,
        firstStep: 10,
        lastStep: 14,
        last: 1,
        min: -2,
        max: 7,
        lastEpoch: 7,
        lastTime: 1_700_000_000_140,
      });
      const [nanLast] = await store.append([
        { key: loss, offset: 5, points: { ...points(1, 15), values: new Float64Array([Number.NaN]) } },
      ]);
      expect(nanLast).toMatchObject({ count: 6, last: null, min: -2, max: 7 });
      // Infinities never become min or max; a step below the first one moves firstStep.
      const odd = { ...points(3, 16), values: Float64Array.of(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 5) };
      odd.steps.set([3, 30, 20]);
      const [after] = await store.append([{ key: loss, offset: 6, points: odd }]);
      expect(after).toMatchObject({ count: 9, last: 5, min: -2, max: 7, firstStep: 3, lastStep: 30, lastEpoch: 7 });
    });

    it('reads a step range', async () => {
      const store = await open();
      await store.append([{ key: loss, offset: 0, points: points(CHUNK_POINTS * 3) }]);
      const range = await store.read(loss, { fromStep: 4000, toStep: 9000 });
      expect(range.steps[0]).toBe(4000);
      expect(range.steps.at(-1)).toBe(9000);
      expect(range.steps.length).toBe(5001);
    });

    it('reads a range of point positions (a page), from the chunks holding it, with or without times and steps', async () => {
      const store = await open();
      // Three whole chunks and an open one, written in appends that do not line up with chunks.
      const sent = points(CHUNK_POINTS * 3 + 700, 0, 50);
      for (let start = 0; start < sent.steps.length; start += 5000) {
        const part = {
          steps: sent.steps.subarray(start, start + 5000),
          values: sent.values.subarray(start, start + 5000),
          epochs: sent.epochs.subarray(start, start + 5000),
          times: sent.times.subarray(start, start + 5000),
        };
        await store.append([{ key: loss, offset: start, points: part }]);
      }
      const whole = await store.read(loss, { withTimes: true });
      const total = sent.steps.length;
      const ranges: [number | undefined, number | undefined][] = [
        [0, 5],
        [CHUNK_POINTS - 3, CHUNK_POINTS + 3],
        [CHUNK_POINTS - 2, CHUNK_POINTS + 1],
        [CHUNK_POINTS, CHUNK_POINTS * 2],
        [0, 1],
        [CHUNK_POINTS * 2, CHUNK_POINTS * 3],
        [CHUNK_POINTS * 3 - 1, total],
        [total - 10, total + 5000],
        [CHUNK_POINTS * 3 + 100, undefined],
        [undefined, 7],
        [10, 10],
        [20, 5],
        [total, total + 10],
        [total + 10_000, undefined],
      ];
      for (const [fromIndex, toIndex] of ranges) {
        const start = Math.min(total, fromIndex ?? 0);
        const end = Math.max(start, Math.min(total, toIndex ?? total));
        const page = await store.read(loss, { withTimes: true, fromIndex, toIndex });
        const label = `${fromIndex}..${toIndex}`;
        expect(Array.from(page.steps), label).toEqual(Array.from(whole.steps.subarray(start, end)));
        expect(Array.from(page.values), label).toEqual(Array.from(whole.values.subarray(start, end)));
        expect(Array.from(page.epochs), label).toEqual(Array.from(whole.epochs.subarray(start, end)));
        expect(Array.from(page.times), label).toEqual(Array.from(whole.times.subarray(start, end)));
        const values = await store.read(loss, { fromIndex, toIndex });
        expect(Array.from(values.values), label).toEqual(Array.from(whole.values.subarray(start, end)));
      }
      // A step range applies within the positions asked for.
      const both = await store.read(loss, { fromIndex: 4000, toIndex: 9000, fromStep: 5000, toStep: 12_000 });
      expect([both.steps[0], both.steps.at(-1), both.steps.length]).toEqual([5000, 8999, 4000]);
    });

    it('removes a run and keeps the others', async () => {
      const store = await open();
      const kept: SeriesKey = { run: 'run-2', type: 'train', name: 'loss' };
      await store.append([
        { key: loss, offset: 0, points: points(10) },
        { key: kept, offset: 0, points: points(10) },
      ]);
      await store.removeRun('run-1');
      expect(await store.list('run-1')).toEqual([]);
      expect((await store.read(loss)).steps.length).toBe(0);
      expect((await store.read(kept)).steps.length).toBe(10);
      // A removed series starts again from zero.
      const [fresh] = await store.append([{ key: loss, offset: 0, points: points(3) }]);
      expect(fresh?.count).toBe(3);
    });

    it('keeps everything across a restart', async () => {
      let store = await open();
      await store.append([{ key: loss, offset: 0, points: points(CHUNK_POINTS + 1) }]);
      store = await (setup as MetricStoreSetup).reopen();
      const [summary] = await store.append([
        { key: loss, offset: CHUNK_POINTS + 1, points: points(2, CHUNK_POINTS + 1) },
      ]);
      expect(summary?.count).toBe(CHUNK_POINTS + 3);
      expect((await store.read(loss)).steps.length).toBe(CHUNK_POINTS + 3);
    });

    it('rejects a negative or fractional offset', async () => {
      const store = await open();
      await expect(store.append([{ key: loss, offset: -1, points: points(1) }])).rejects.toMatchObject({
        name: 'BadRequest',
      });
      await expect(store.append([{ key: loss, offset: 0.5, points: points(1) }])).rejects.toMatchObject({
        name: 'BadRequest',
      });
    });
  });
}
