import { appendFile, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MetricChunk } from './metric-chunk.js';
import { readAllSeries, readMetricLog } from './metric-log-reader.js';
import { encodeMetricRecord } from './metric-log-record.js';
import { type DurableChunks, MetricLogWriter, PIECE_POINTS } from './metric-log-writer.js';

let directory: string;
let file: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'larder-metric-log-'));
  file = join(directory, 'metrics.lmc');
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('MetricLogWriter', () => {
  it('buffers appends in memory and writes them as one chunk per series on flush', async () => {
    const writer = await MetricLogWriter.create(file, { flushIntervalMs: 60_000 });
    writer.append('train', { loss: 1, accuracy: 0.5 }, 0, null, 1000);
    writer.append('train', { loss: 0.5 }, 1, 0, 1001);
    expect(await readFile(file, 'utf8')).toBe('');
    expect(writer.bufferedPoints).toBe(3);
    await writer.flush();
    const { chunks, end } = await readMetricLog(file);
    expect(end).toBe((await readFile(file)).length);
    expect(chunks.map(plain)).toEqual([
      {
        type: 'train',
        name: 'loss',
        offset: 0,
        steps: [0, 1],
        values: [1, 0.5],
        epochs: [null, 0],
        times: [1000, 1001],
      },
      { type: 'train', name: 'accuracy', offset: 0, steps: [0], values: [0.5], epochs: null, times: [1000] },
    ]);
    writer.append('train', { loss: 0.25 }, 2, null, 1002);
    await writer.close();
    const { series } = await readAllSeries(file);
    expect(series.find((each) => each.name === 'loss')).toMatchObject({ steps: [0, 1, 2], values: [1, 0.5, 0.25] });
  });

  it('flushes by itself once the buffer is large, without being asked', async () => {
    const writer = await MetricLogWriter.create(file, { flushIntervalMs: 60_000, maxBufferedPoints: 10 });
    for (let step = 0; step < 10; step++) writer.append('val', { loss: step }, step, null, step);
    await new Promise((resolve) => setImmediate(resolve));
    await writer.flush();
    const { series } = await readAllSeries(file);
    expect(series[0]?.steps).toHaveLength(10);
    await writer.close();
  });

  it('writes NaN and Infinity as null', async () => {
    const writer = await MetricLogWriter.create(file);
    writer.append('train', { loss: Number.NaN, grad: Number.POSITIVE_INFINITY }, 0, null, 0);
    await writer.close();
    const { series } = await readAllSeries(file);
    expect(series.map((each) => each.values)).toEqual([[null], [null]]);
  });

  it('writes a large flush in pieces, each told to onDurable with its bytes once it is on disk', async () => {
    const written: DurableChunks[] = [];
    const writer = await MetricLogWriter.create(file, { flushIntervalMs: 60_000, onDurable: (w) => written.push(w) });
    const steps = PIECE_POINTS + PIECE_POINTS / 2;
    for (let step = 0; step < steps; step++)
      writer.append('train', { loss: step / 7, acc: step }, step, step % 3, 5000);
    await writer.close();
    const bytes = await readFile(file);
    expect(written.length).toBe(3);
    expect(written[0]?.from).toBe(0);
    expect(written.at(-1)?.to).toBe(bytes.length);
    for (const [index, each] of written.entries()) {
      if (index > 0) expect(each.from).toBe(written[index - 1]?.to);
      expect(each.chunks.reduce((sum, chunk) => sum + chunk.steps.length, 0)).toBeLessThanOrEqual(PIECE_POINTS);
      // What a piece hands over is exactly what its bytes hold.
      const piece = join(directory, 'piece.lmc');
      await writeFile(piece, bytes.subarray(each.from, each.to));
      const read = await readMetricLog(piece);
      expect(read.end).toBe(each.to - each.from);
      expect(read.chunks.map(plain)).toEqual(each.chunks.map(plain));
    }
    const { series } = await readAllSeries(file);
    const loss = series.find((each) => each.name === 'loss');
    expect(loss?.steps).toHaveLength(steps);
    expect(loss?.values[steps - 1]).toBe((steps - 1) / 7);
    expect(loss?.epochs?.[4]).toBe(1);
  });

  it('hands over consecutive flushes of a series side by side in memory, and never writes over what it handed over', async () => {
    const written: DurableChunks[] = [];
    const writer = await MetricLogWriter.create(file, { flushIntervalMs: 60_000, onDurable: (w) => written.push(w) });
    for (let step = 0; step < 300; step++) writer.append('train', { loss: step }, step, null, step);
    await writer.flush();
    for (let step = 300; step < 500; step++) writer.append('train', { loss: -step }, step, 7, step);
    await writer.flush();
    const [first, second] = written.map((each) => each.chunks[0] as MetricChunk);
    expect(second?.steps.buffer).toBe(first?.steps.buffer);
    expect(second?.values.byteOffset).toBe((first?.values.byteOffset ?? 0) + (first?.values.byteLength ?? 0));
    expect(first?.epochs).toBeNull();
    expect(Array.from(second?.epochs ?? [])).toEqual(Array(200).fill(7));
    expect(Array.from(first?.values ?? [])).toEqual(Array.from({ length: 300 }, (_, step) => step));
    await writer.close();
    const { series } = await readAllSeries(file);
    expect(series[0]?.values.slice(298, 302)).toEqual([298, 299, -300, -301]);
  });

  it('puts the points of a failed write back in front, so the next flush writes them at the same offsets', async () => {
    const writer = await MetricLogWriter.create(file, { flushIntervalMs: 60_000 });
    const probe = await open(join(directory, 'probe'), 'w');
    const handlePrototype = Object.getPrototypeOf(probe) as { writev: (...args: never[]) => Promise<unknown> };
    await probe.close();
    writer.append('train', { loss: 0 }, 0, null, 0);
    await writer.flush();
    for (let step = 1; step < 5; step++) writer.append('train', { loss: step, acc: step }, step, step, step);
    const failing = vi.spyOn(handlePrototype, 'writev').mockRejectedValueOnce(new Error('ENOSPC: no space left'));
    await expect(writer.flush()).rejects.toThrow(/ENOSPC/);
    failing.mockRestore();
    expect(writer.bufferedPoints).toBe(8);
    writer.append('train', { loss: 5 }, 5, null, 5);
    await writer.close();
    const { series } = await readAllSeries(file);
    const loss = series.find((each) => each.name === 'loss');
    expect(loss).toMatchObject({ steps: [0, 1, 2, 3, 4, 5], epochs: [null, 1, 2, 3, 4, null] });
    expect(series.find((each) => each.name === 'acc')).toMatchObject({ steps: [1, 2, 3, 4], values: [1, 2, 3, 4] });
  });

  it('shares one exit listener among all its open writers, and removes it when the last closes', async () => {
    const before = process.listenerCount('exit');
    const writers = await Promise.all(
      Array.from({ length: 12 }, (_, index) => MetricLogWriter.create(join(directory, `many-${index}.lmc`))),
    );
    expect(process.listenerCount('exit')).toBe(before + 1);
    for (const writer of writers) await writer.close();
    expect(process.listenerCount('exit')).toBe(before);
  });

  it('flushSync writes what is buffered (the exit path)', async () => {
    const writer = await MetricLogWriter.create(file, { flushIntervalMs: 60_000 });
    writer.append('train', { loss: 1 }, 0, null, 0);
    writer.flushSync();
    expect((await readAllSeries(file)).series[0]?.steps).toEqual([0]);
    await writer.close();
  });
});

describe('metric log records', () => {
  const chunk = (offset: number, steps: number[]): MetricChunk => ({
    type: 'train',
    name: 'loss',
    offset,
    steps: Float64Array.from(steps),
    values: Float64Array.from(steps),
    epochs: null,
    times: Float64Array.from(steps),
  });
  const record = (...chunks: MetricChunk[]) => Buffer.concat(encodeMetricRecord(chunks));

  it('keeps every number as it was, NaN standing for null; names with quotes and controls too', async () => {
    const chunks: MetricChunk[] = [
      {
        type: 'train',
        name: 'loss',
        offset: 3,
        steps: Float64Array.from([3, 4, 5]),
        values: Float64Array.from([0.1 + 0.2, 1e21, -0]),
        epochs: null,
        times: Float64Array.from([1.7e12, 1.7e12 + 1, 5e-324]),
      },
      {
        type: 'val',
        name: 'q"uote\\\u0001é',
        offset: 0,
        steps: Float64Array.from([0, 1]),
        values: Float64Array.from([Number.NaN, 2 ** 53 + 2]),
        epochs: Float64Array.from([Number.NaN, 2]),
        times: Float64Array.from([0, 1]),
      },
      { ...chunk(0, []), type: 'test', name: 'empty' },
    ];
    await writeFile(file, record(...chunks));
    const read = await readMetricLog(file);
    expect(read.chunks.map(plain)).toEqual(chunks.map(plain));
    expect(Object.is(read.chunks[0]?.values[2], -0)).toBe(true);
  });

  it('ignores a last record torn by a crash, or a tail of zeros the file grew by', async () => {
    const whole = record(chunk(0, [0, 1]));
    const torn = record(chunk(2, [2]));
    for (const tail of [
      torn.subarray(0, 30),
      torn.subarray(0, 4),
      torn.subarray(0, torn.length - 1),
      Buffer.alloc(64),
    ]) {
      await writeFile(file, Buffer.concat([whole, tail]));
      const { series, end } = await readAllSeries(file);
      expect(series[0]?.steps).toEqual([0, 1]);
      expect(end).toBe(whole.length);
    }
  });

  it('skips a chunk written twice and refuses a missing one', async () => {
    await writeFile(file, Buffer.concat([record(chunk(0, [0, 1])), record(chunk(1, [1, 2]), chunk(3, [3]))]));
    expect((await readAllSeries(file)).series[0]?.steps).toEqual([0, 1, 2, 3]);
    await appendFile(file, record(chunk(9, [9])));
    await expect(readAllSeries(file)).rejects.toThrow(/missing points 4-8/);
  });

  it('reads a bounded slice at a time, a record longer than the slice whole, and resumes where it stopped', async () => {
    const records = Array.from({ length: 50 }, (_, index) => record(chunk(index, [index])));
    const long = record(
      chunk(
        50,
        Array.from({ length: 1000 }, (_, index) => 50 + index),
      ),
    );
    await writeFile(file, Buffer.concat([...records, long]));
    const first = await readMetricLog(file, { maxBytes: 1024 });
    expect(first.atEnd).toBe(false);
    expect(first.chunks.length).toBeGreaterThan(0);
    let from = first.end;
    let count = first.chunks.length;
    for (;;) {
      const slice = await readMetricLog(file, { from, maxBytes: 1024 });
      count += slice.chunks.length;
      from = slice.end;
      if (slice.atEnd) break;
    }
    expect(count).toBe(51);
    expect((await readAllSeries(file)).series[0]?.steps).toHaveLength(1050);
  });

  it('refuses a damaged record that is not the last', async () => {
    const damaged = record(chunk(1, [1]));
    damaged[damaged.length - 1] = 0x21;
    await writeFile(file, Buffer.concat([record(chunk(0, [0])), damaged, record(chunk(2, [2]))]));
    await expect(readAllSeries(file)).rejects.toThrow(/damaged record at byte/);
    await writeFile(file, Buffer.concat([record(chunk(0, [0])), Buffer.from('garbage!'), record(chunk(1, [1]))]));
    await expect(readAllSeries(file)).rejects.toThrow(/no record starts there/);
  });
});

describe('metric logs of runs written before the binary log (metrics.ndjson)', () => {
  const line = (offset: number, steps: number[], values: (number | null)[] = steps) =>
    `${JSON.stringify({ type: 'train', name: 'loss', offset, steps, values, epochs: null, times: steps })}\n`;
  let ndjson: string;
  beforeEach(() => {
    ndjson = join(directory, 'metrics.ndjson');
  });

  it('still reads: null values as null, a last line torn by a crash ignored', async () => {
    await writeFile(ndjson, line(0, [0, 1], [0.5, null]) + line(2, [2]) + line(3, [3]).slice(0, 30));
    const { series, end } = await readAllSeries(ndjson);
    expect(series[0]).toMatchObject({ steps: [0, 1, 2], values: [0.5, null, 2], epochs: [null, null, null] });
    expect(end).toBe(Buffer.byteLength(line(0, [0, 1], [0.5, null]) + line(2, [2])));
  });

  it('skips a chunk written twice, refuses a missing one and a damaged line that is not the last', async () => {
    await writeFile(ndjson, line(0, [0, 1]) + line(1, [1, 2]) + line(3, [3]));
    expect((await readAllSeries(ndjson)).series[0]?.steps).toEqual([0, 1, 2, 3]);
    await appendFile(ndjson, line(9, [9]));
    await expect(readAllSeries(ndjson)).rejects.toThrow(/missing points 4-8/);
    await writeFile(ndjson, `${line(0, [0])}{"not":"a chunk"}\n${line(1, [1])}`);
    await expect(readAllSeries(ndjson)).rejects.toThrow(/damaged line/);
  });

  it('reads a bounded slice at a time and resumes from where it stopped', async () => {
    await writeFile(ndjson, Array.from({ length: 50 }, (_, index) => line(index, [index])).join(''));
    const first = await readMetricLog(ndjson, { maxBytes: 1024 });
    expect(first.atEnd).toBe(false);
    const second = await readMetricLog(ndjson, { from: first.end });
    expect(first.chunks.length + second.chunks.length).toBe(50);
  });
});

/** A chunk with plain arrays (NaN as null), for comparing. */
function plain(chunk: MetricChunk) {
  const numbers = (column: Float64Array) => Array.from(column, (value) => (Number.isNaN(value) ? null : value));
  return {
    type: chunk.type,
    name: chunk.name,
    offset: chunk.offset,
    steps: numbers(chunk.steps),
    values: numbers(chunk.values),
    epochs: chunk.epochs ? numbers(chunk.epochs) : null,
    times: numbers(chunk.times),
  };
}
