/**
 * The chunk column codec: every column comes back exactly, the compact forms are used where a
 * training log's columns have their shape, and raw bytes (every row written before the codec)
 * still read as they are.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { packColumn, unpackColumn } from './column-codec.js';

const CHUNK = 4096;

function same(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((value, index) => Object.is(value, b[index]));
}

function roundTrip(column: Float64Array): Buffer {
  const bytes = packColumn(column);
  expect(same(unpackColumn(bytes), column), `${column.length} values, ${bytes.length} bytes`).toBe(true);
  // A compact form is told from raw bytes by its length alone.
  expect(bytes.length % 8 === 0).toBe(bytes.length === column.byteLength);
  return bytes;
}

const filled = (length: number, at: (index: number) => number) => Float64Array.from({ length }, (_, i) => at(i));

describe('metric chunk columns', () => {
  it('stores steps, epochs and whole-millisecond times compactly, and values raw', () => {
    expect(roundTrip(filled(CHUNK, (i) => i)).length).toBe(21);
    expect(roundTrip(filled(CHUNK, (i) => 1_000_000 + 10 * i)).length).toBe(21);
    expect(roundTrip(filled(CHUNK, (i) => Math.floor(i / 1000))).length).toBeLessThan(100);
    expect(roundTrip(filled(CHUNK, () => Number.NaN)).length).toBe(21);
    const times = filled(CHUNK, (i) => 1_796_348_823_606 + Math.floor(i / 10) * 3);
    expect(roundTrip(times).length).toBeLessThan(CHUNK * 1.1);
    const jittered = filled(CHUNK, (i) => 1_796_348_823_606 + i * 2 + (i % 7 === 0 ? 300 : 0));
    expect(roundTrip(jittered).length).toBeLessThan(CHUNK * 2.5);
    const losses = filled(CHUNK, (i) => Math.exp(-i / 500) + Math.random() / 100);
    expect(roundTrip(losses).length).toBe(CHUNK * 8);
  });

  it('gives every number back exactly, whatever the column holds', () => {
    const specials = [
      0,
      -0,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      2 ** 53,
      -(2 ** 53),
      1e-300,
    ];
    const shapes: Float64Array[] = [
      new Float64Array(0),
      Float64Array.from([5]),
      Float64Array.from([5, 6]),
      Float64Array.from([0, -0, 0]),
      Float64Array.from([-0, -0, -0, -0]),
      Float64Array.from([0, 0.1, 0.2, 0.30000000000000004, 0.4]),
      filled(100, (i) => 0.1 * i),
      filled(100, (i) => -i * 3),
      filled(100, (i) => (i % 2 === 0 ? 2 ** 52 : -(2 ** 52))),
      filled(100, (i) => (i < 50 ? Number.MAX_SAFE_INTEGER - i : Number.MIN_SAFE_INTEGER + i)),
      filled(100, (i) => specials[i % specials.length] as number),
      filled(1000, (i) => specials[Math.floor(i / 100) % specials.length] as number),
      filled(CHUNK, (i) => (i === 2000 ? Number.NaN : i)),
      filled(CHUNK, (i) => (i === 4095 ? 1.5 : i)),
      filled(CHUNK, (i) => 1_700_000_000_000 + i - (i === 10 ? 20_000 : 0)),
    ];
    for (const column of shapes) roundTrip(column);
    for (let trial = 0; trial < 50; trial += 1) {
      const length = 1 + Math.floor(Math.random() * 300);
      const runs = filled(length, (i) => Math.floor(i / (1 + (trial % 40))) * (trial % 3 === 0 ? 0.5 : 7));
      roundTrip(runs);
      const noisy = filled(length, (i) => Math.round(i * 1000 + (Math.random() - 0.5) * 2 ** (trial % 50)));
      roundTrip(noisy);
      const raw = new Float64Array(randomBytes(length * 8).buffer.slice(0, length * 8));
      roundTrip(raw);
    }
  });

  it('reads raw float64 bytes as rows written before the codec hold them, at any offset', () => {
    const column = filled(10, (i) => i * 1.25);
    const raw = Buffer.from(column.buffer);
    expect(same(unpackColumn(raw), column)).toBe(true);
    const shifted = Buffer.alloc(raw.length + 3);
    raw.copy(shifted, 3);
    expect(same(unpackColumn(shifted.subarray(3)), column)).toBe(true);
    const compact = packColumn(filled(CHUNK, (i) => i));
    const misaligned = Buffer.alloc(compact.length + 1);
    compact.copy(misaligned, 1);
    expect(
      same(
        unpackColumn(misaligned.subarray(1)),
        filled(CHUNK, (i) => i),
      ),
    ).toBe(true);
  });

  it('says a damaged column is damaged, rather than reading something else', () => {
    const compact = packColumn(filled(CHUNK, (i) => Math.floor(i / 100)));
    expect(() => unpackColumn(compact.subarray(0, 11))).toThrow(/damaged/);
    const unknown = Buffer.from(compact);
    unknown[0] = 9;
    expect(() => unpackColumn(unknown)).toThrow(/damaged/);
    const times = packColumn(filled(CHUNK, (i) => 1_796_348_823_606 + i * 3));
    expect(() => unpackColumn(times.subarray(0, times.length % 8 === 1 ? times.length - 2 : times.length - 1))).toThrow(
      /damaged/,
    );
  });
});
