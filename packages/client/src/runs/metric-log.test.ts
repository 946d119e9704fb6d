import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeChunk } from './metric-chunk.js';
import { readAllSeries, readMetricLog } from './metric-log-reader.js';
import { type DurableChunks, MetricLogWriter, PIECE_POINTS } from './metric-log-writer.js';

let directory: string;
let file: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'larder-metric-log-'));
  file = join(directory, 'metrics.ndjson');
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
    const lines = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toEqual([
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
      const text = bytes.subarray(each.from, each.to).toString('utf8');
      expect(
        text
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line)),
      ).toEqual(each.chunks);
    }
    const { series } = await readAllSeries(file);
    const loss = series.find((each) => each.name === 'loss');
    expect(loss?.steps).toHaveLength(steps);
    expect(loss?.values[steps - 1]).toBe((steps - 1) / 7);
    expect(loss?.epochs?.[4]).toBe(1);
  });

  it('flushSync writes what is buffered (the exit path)', async () => {
    const writer = await MetricLogWriter.create(file, { flushIntervalMs: 60_000 });
    writer.append('train', { loss: 1 }, 0, null, 0);
    writer.flushSync();
    expect((await readAllSeries(file)).series[0]?.steps).toEqual([0]);
    await writer.close();
  });
});

describe('encodeChunk', () => {
  it('writes exactly what JSON.stringify writes, null, NaN, ±Infinity and -0 included', () => {
    const chunks = [
      {
        type: 'train',
        name: 'loss',
        offset: 3,
        steps: [3, 4, 5],
        values: [0.1 + 0.2, 1e21, -0],
        epochs: null,
        times: [1.7e12, 1.7e12 + 1, 5e-324],
      },
      {
        type: 'val',
        name: 'q"uote\\',
        offset: 0,
        steps: [0, 1],
        values: [Number.NaN, Number.NEGATIVE_INFINITY],
        epochs: [null, 2],
        times: [0, 1],
      },
      { type: 'test', name: 'empty', offset: 0, steps: [], values: [], epochs: [], times: [] },
    ];
    for (const chunk of chunks) expect(encodeChunk(chunk)).toBe(`${JSON.stringify(chunk)}\n`);
  });
});

describe('readMetricLog', () => {
  const chunk = (offset: number, steps: number[]) =>
    encodeChunk({ type: 'train', name: 'loss', offset, steps, values: steps, epochs: null, times: steps });

  it('ignores a last line torn by a crash', async () => {
    await writeFile(file, chunk(0, [0, 1]) + chunk(2, [2]).slice(0, 30));
    const { series, end } = await readAllSeries(file);
    expect(series[0]?.steps).toEqual([0, 1]);
    expect(end).toBe(Buffer.byteLength(chunk(0, [0, 1])));
  });

  it('skips a chunk written twice and refuses a missing one', async () => {
    await writeFile(file, chunk(0, [0, 1]) + chunk(1, [1, 2]) + chunk(3, [3]));
    expect((await readAllSeries(file)).series[0]?.steps).toEqual([0, 1, 2, 3]);
    await appendFile(file, chunk(9, [9]));
    await expect(readAllSeries(file)).rejects.toThrow(/missing points 4-8/);
  });

  it('reads a bounded slice at a time and resumes from where it stopped', async () => {
    const lines = Array.from({ length: 50 }, (_, index) => chunk(index, [index])).join('');
    await writeFile(file, lines);
    const first = await readMetricLog(file, { maxBytes: 1024 });
    expect(first.atEnd).toBe(false);
    expect(first.chunks.length).toBeGreaterThan(0);
    const rest = await readAllSeries(file);
    expect(rest.series[0]?.steps).toHaveLength(50);
    const second = await readMetricLog(file, { from: first.end });
    expect(first.chunks.length + second.chunks.length).toBe(50);
  });

  it('refuses a damaged line that is not the last', async () => {
    await writeFile(file, `${chunk(0, [0])}{"not":"a chunk"}\n${chunk(1, [1])}`);
    await expect(readAllSeries(file)).rejects.toThrow(/damaged line/);
  });
});
