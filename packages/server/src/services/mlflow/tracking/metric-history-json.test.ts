import { describe, expect, test } from 'vitest';
import { writeChunk, writeNumber } from './history-bytes.js';
import { ChunkFeed, type ChunkJob, type FormatThreads, HistoryFormatThreads } from './history-format-threads.js';
import { indexRange, metricHistoryJson, metricHistoryPieces } from './metric-history-json.js';

/** A number as the history's byte writer writes it. */
const numberText = (value: number) => {
  const bytes = new Uint8Array(32);
  return Buffer.from(bytes.buffer, 0, writeNumber(bytes, 0, value)).toString('latin1');
};

const columns = (values: number[]) => ({
  steps: Float64Array.from(values, (_, index) => index * 2),
  values: Float64Array.from(values),
  times: Float64Array.from(values, (_, index) => 1_700_000_000_000 + index),
  epochs: new Float64Array(values.length),
});

const text = (...args: Parameters<typeof metricHistoryPieces>) =>
  Buffer.concat([...metricHistoryPieces(...args)]).toString('utf8');

describe('the JSON text of a metric history', () => {
  test('is what JSON.parse reads back as the message, doubles written as MLflow writes them', () => {
    const values = [0.5, -0, 1e-300, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 3];
    const parsed = JSON.parse(text([{ key: 'loss "a"', columns: columns(values), indexes: [0, 1, 2, 3, 4, 5, 6] }]));
    expect(parsed).toEqual({
      metrics: [
        { key: 'loss "a"', value: 0.5, timestamp: 1_700_000_000_000, step: 0 },
        { key: 'loss "a"', value: 0, timestamp: 1_700_000_000_001, step: 2 },
        { key: 'loss "a"', value: 1e-300, timestamp: 1_700_000_000_002, step: 4 },
        { key: 'loss "a"', value: 'NaN', timestamp: 1_700_000_000_003, step: 6 },
        { key: 'loss "a"', value: 'Infinity', timestamp: 1_700_000_000_004, step: 8 },
        { key: 'loss "a"', value: '-Infinity', timestamp: 1_700_000_000_005, step: 10 },
        { key: 'loss "a"', value: 3, timestamp: 1_700_000_000_006, step: 12 },
      ],
    });
  });

  test('spans pieces, several runs and a page token, in the order of the indexes given', () => {
    const long = columns(Array.from({ length: 10_000 }, (_, index) => index / 7));
    const parsed = JSON.parse(
      text(
        [
          { key: 'm', columns: long, indexes: indexRange(5000, 10_000), runId: 'r1' },
          { key: 'm', columns: columns([1, 2]), indexes: [1, 0], runId: 'r2' },
          { key: 'm', columns: columns([]), indexes: [], runId: 'r3' },
        ],
        'tok',
      ),
    );
    expect(parsed.next_page_token).toBe('tok');
    expect(parsed.metrics).toHaveLength(5002);
    expect(parsed.metrics[0]).toEqual({
      key: 'm',
      value: 5000 / 7,
      timestamp: 1_700_000_005_000,
      step: 10_000,
      run_id: 'r1',
    });
    expect(parsed.metrics[4999].value).toBe(9999 / 7);
    expect(parsed.metrics.slice(5000).map((metric: { value: number }) => metric.value)).toEqual([2, 1]);
  });

  test('is byte for byte what JSON.stringify writes, across pieces, for any number', () => {
    const length = 30_000; // ~2.5 MB of text: three pieces
    const random = (index: number) => {
      switch (index % 6) {
        case 0:
          return Math.random() * 10 ** Math.floor(Math.random() * 40 - 20);
        case 1:
          return -Math.floor(Math.random() * 2 ** 53);
        case 2:
          return Math.floor(Math.random() * 1e7);
        case 3:
          return (Math.random() - 0.5) * 1e300;
        case 4:
          return 2 ** 53 + index * 2;
        default:
          return index % 12 === 5 ? -0 : index;
      }
    };
    const steps = Float64Array.from({ length }, (_, index) => random(index + 1));
    const values = Float64Array.from({ length }, (_, index) => random(index));
    const times = Float64Array.from({ length }, (_, index) => random(index + 2));
    const key = 'perte/é 🙂';
    const slice = { key, columns: { steps, values, times, epochs: new Float64Array(length) }, runId: 'r"1' };
    const indexes = indexRange(0, length);
    const expected = JSON.stringify({
      metrics: Array.from(indexes, (index) => ({
        key,
        value: values[index],
        timestamp: times[index],
        step: steps[index],
        run_id: 'r"1',
      })),
      next_page_token: 'p',
    });
    const pieces = [...metricHistoryPieces([{ ...slice, indexes }], 'p')];
    expect(pieces.length).toBeGreaterThan(2);
    expect(Buffer.concat(pieces).toString('utf8')).toBe(expected);
  });

  test('written in parts on worker threads is the same bytes as written on one thread', async () => {
    const long = columns(Array.from({ length: 25_000 }, (_, index) => (index % 3 === 0 ? -index / 3 : index * 1e-7)));
    const slices = [
      { key: 'm', columns: long, indexes: indexRange(0, 25_000), runId: 'r1' },
      { key: 'ü', columns: columns([4, Number.NaN, 6]), indexes: [2, 1, 0], runId: 'r2' },
      { key: 'm', columns: columns([]), indexes: [], runId: 'r3' },
      { key: 'm', columns: long, indexes: indexRange(10, 9_000), runId: 'r4' },
    ];
    const single = Buffer.concat([...metricHistoryPieces(slices, 'next')]);
    const chunks: Buffer[] = [];
    for await (const chunk of metricHistoryJson(slices, 'next', { parallelFrom: 1 })) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(single)).toBe(true);
    expect(JSON.parse(single.toString('utf8')).metrics).toHaveLength(25_000 + 3 + 8_990);
  });

  /** A job of `points` points of one run, as the answer's threads get it. */
  const jobOf = (points: number, chunkPoints: number): ChunkJob => {
    const shared = (length: number) => new Float64Array(new SharedArrayBuffer(length * 8));
    const job: ChunkJob = {
      runs: [
        { head: Buffer.from('{"key":"m","value":'), tail: Buffer.from('}'), start: 0, end: points / 2 },
        {
          head: Buffer.from('{"key":"n","value":'),
          tail: Buffer.from(',"run_id":"r"}'),
          start: points / 2,
          end: points,
        },
      ],
      values: shared(points),
      times: shared(points),
      steps: shared(points),
      indexes: new Uint32Array(new SharedArrayBuffer(points * 4)),
      claims: new Int32Array(new SharedArrayBuffer(4)),
      chunkPoints,
    };
    for (let at = 0; at < points; at += 1) {
      job.values[at] = at % 5 === 0 ? Number.NaN : at / 7;
      job.times[at] = 1_700_000_000_000 + at;
      job.steps[at] = at * 3;
      job.indexes[at] = at;
    }
    return job;
  };

  test('a formatting thread writes every chunk of a job no one else claims, as the main thread would', async () => {
    const job = jobOf(1000, 128);
    const feed = new HistoryFormatThreads(1).format(job);
    const chunks: Buffer[] = [];
    while (chunks.length < 8) {
      const piece = feed.take(chunks.length);
      if (piece) chunks.push(piece);
      else {
        expect(feed.failure).toBeUndefined();
        await feed.arrival();
      }
    }
    const runs = job.runs.map((run) => ({ ...run, ...job }));
    const expected = Array.from({ length: 8 }, (_, chunk) =>
      Buffer.from(writeChunk(runs, chunk * 128, Math.min(1000, chunk * 128 + 128))),
    );
    expect(Buffer.concat(chunks).equals(Buffer.concat(expected))).toBe(true);
    const parsed = JSON.parse(`[${Buffer.concat(chunks).toString('utf8')}]`);
    expect(parsed).toHaveLength(1000);
    expect(parsed[999]).toEqual({ key: 'n', value: 999 / 7, timestamp: 1_700_000_000_999, step: 2997, run_id: 'r' });
  });

  /**
   * Threads that claim `delivered + 1` chunks at once, hand in `delivered` of them, then die
   * holding the last, as a thread that exits or runs out of memory does.
   */
  const dyingThreads = (delivered: number) => {
    const seen = { delivered: 0, failed: false };
    const threads: FormatThreads = {
      size: 1,
      format(job) {
        const feed = new ChunkFeed();
        const runs = job.runs.map((run) => ({ ...run, ...job }));
        const held = Array.from({ length: delivered + 1 }, () => Atomics.add(job.claims, 0, 1));
        setImmediate(() => {
          for (const chunk of held.slice(0, delivered)) {
            const from = chunk * job.chunkPoints;
            feed.put(chunk, writeChunk(runs, from, Math.min(job.values.length, from + job.chunkPoints)));
            seen.delivered += 1;
          }
          seen.failed = true;
          feed.fail(new Error('history formatting thread exited'));
        });
        return feed;
      },
    };
    return { threads, seen };
  };

  test.each([0, 3])(
    'whose thread dies after writing %i chunks is finished on the main thread, the same bytes',
    async (delivered) => {
      const long = columns(Array.from({ length: 60_000 }, (_, index) => index / 3 - 7));
      const slices = [
        { key: 'm', columns: long, indexes: indexRange(0, 40_000), runId: 'r1' },
        { key: 'm', columns: long, indexes: indexRange(40_000, 60_000), runId: 'r2' },
      ];
      const single = Buffer.concat([...metricHistoryPieces(slices, 'next')]);
      const { threads, seen } = dyingThreads(delivered);
      const chunks: Buffer[] = [];
      for await (const chunk of metricHistoryJson(slices, 'next', { parallelFrom: 1, threads })) {
        chunks.push(chunk as Buffer);
      }
      expect(seen).toEqual({ delivered, failed: true });
      expect(Buffer.concat(chunks).equals(single)).toBe(true);
    },
  );

  test('of nothing is an empty list', () => {
    expect(JSON.parse(text([]))).toEqual({ metrics: [] });
  });
});

describe('numbers as bytes', () => {
  test('read exactly as String writes them, at the edges and at random', () => {
    const edges = [0, 1, -5, 999_999_999, 1e9, 1e9 + 1, 1_764_633_600_000, 1_764_633_000_000, 1_764_633_000_009];
    const more = [8_999_999_999_999_999, 9e15, 2 ** 53, 1.5e12 + 0.5, Number.NaN, -1_764_633_600_000];
    const random = Array.from({ length: 10_000 }, () => Math.floor(Math.random() * 4e12));
    for (const value of [...edges, ...more, ...random]) expect(numberText(value)).toBe(String(value));
  });
});
