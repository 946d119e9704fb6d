/**
 * How a stored chunk's column of float64 numbers (steps, values, epochs, times) is written:
 * the smaller of its raw bytes and a compact form when the column has a shape a training log
 * gives it. A run's steps are nearly always 0, 1, 2, …; its epochs change once in thousands of
 * points; its times are whole milliseconds a few apart. Stored raw, those three columns are
 * three quarters of a chunk's 32 bytes a point; stored so, a point costs about nine, and a
 * series of a million points is written (row, WAL, checkpoint) a third as often.
 *
 * A compact column never has a length that is a multiple of 8 (a zero byte pads it when it
 * would), and raw float64 bytes always have one: rows written before this form existed read
 * as they are, and a column no form makes smaller stays raw. Decoding gives every number back
 * exactly (`-0` and the infinities included; a NaN reads back as NaN).
 *
 * Forms, after a tag byte and the count (u32):
 * - progression: `first`, `delta` (f64): value i is `first + i * delta`, checked exactly;
 * - integer deltas: `first` (f64), then each step from the previous as a zigzag varint (safe
 *   integers only: whole-millisecond times);
 * - runs: their number (u32), then each run's value (f64) and length (u32).
 *
 * @example
 * const bytes = packColumn(Float64Array.from([0, 1, 2, 3])); // 21 bytes, not 32
 * unpackColumn(bytes); // Float64Array [0, 1, 2, 3]
 */

const PROGRESSION = 1;
const INTEGER_DELTAS = 2;
const RUNS = 3;
const HEADER = 5;
const MAX_DELTA = 2 ** 51;

/** A column's bytes as stored: a compact form when it is smaller than the raw float64 bytes. */
export function packColumn(column: Float64Array): Buffer {
  const rawBytes = column.byteLength;
  if (column.length >= 3) {
    const compact = progression(column) ?? runs(column, rawBytes) ?? integerDeltas(column, rawBytes);
    if (compact !== undefined && compact.length < rawBytes) return compact;
  }
  return Buffer.from(column.buffer, column.byteOffset, column.byteLength);
}

/** The column `packColumn` wrote (or the raw float64 bytes of an older row). */
export function unpackColumn(bytes: Uint8Array): Float64Array {
  if (bytes.byteLength % 8 === 0) {
    // Copy into an aligned buffer: database drivers hand out views at any offset.
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    return new Float64Array(copy.buffer);
  }
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.length < HEADER) damaged('it is too short');
  const count = view.readUInt32LE(1);
  const column = new Float64Array(count);
  switch (view[0]) {
    case PROGRESSION: {
      if (view.length < HEADER + 16) damaged('a progression is cut short');
      const first = view.readDoubleLE(HEADER);
      const delta = view.readDoubleLE(HEADER + 8);
      for (let index = 0; index < count; index += 1) column[index] = first + index * delta;
      return column;
    }
    case INTEGER_DELTAS: {
      if (view.length < HEADER + 8) damaged('integer deltas are cut short');
      let value = view.readDoubleLE(HEADER);
      let at = HEADER + 8;
      if (count > 0) column[0] = value;
      for (let index = 1; index < count; index += 1) {
        let zigzag = 0;
        let scale = 1;
        for (;;) {
          if (at >= view.length) damaged('integer deltas are cut short');
          const byte = view[at++] as number;
          zigzag += (byte & 0x7f) * scale;
          if (byte < 0x80) break;
          scale *= 128;
        }
        value += zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2;
        column[index] = value;
      }
      return column;
    }
    case RUNS: {
      if (view.length < HEADER + 4) damaged('runs are cut short');
      const runCount = view.readUInt32LE(HEADER);
      if (view.length < HEADER + 4 + runCount * 12) damaged('runs are cut short');
      let index = 0;
      for (let run = 0; run < runCount; run += 1) {
        const at = HEADER + 4 + run * 12;
        const value = view.readDoubleLE(at);
        const end = index + view.readUInt32LE(at + 8);
        if (end > count) damaged('its runs hold more points than it says');
        column.fill(value, index, end);
        index = end;
      }
      if (index !== count) damaged('its runs hold fewer points than it says');
      return column;
    }
    default:
      return damaged(`form ${view[0]} is unknown`);
  }
}

function damaged(why: string): never {
  throw new Error(`A stored metric chunk column is damaged: ${why}`);
}

/** The column as first + i * delta, when that gives every value back exactly. */
function progression(column: Float64Array): Buffer | undefined {
  const first = column[0] as number;
  const delta = (column[1] as number) - first;
  for (let index = 0; index < column.length; index += 1) {
    if (!Object.is(first + index * delta, column[index])) return undefined;
  }
  const bytes = Buffer.alloc(HEADER + 16);
  header(bytes, PROGRESSION, column.length);
  bytes.writeDoubleLE(first, HEADER);
  bytes.writeDoubleLE(delta, HEADER + 8);
  return bytes;
}

/** The column as runs of one value, when fewer than a sixteenth of its points start one. */
function runs(column: Float64Array, rawBytes: number): Buffer | undefined {
  let count = 1;
  for (let index = 1; index < column.length; index += 1) {
    if (!Object.is(column[index], column[index - 1])) {
      count += 1;
      if (count * 16 > column.length) return undefined;
    }
  }
  const size = padded(HEADER + 4 + count * 12);
  if (size >= rawBytes) return undefined;
  const bytes = Buffer.alloc(size);
  header(bytes, RUNS, column.length);
  bytes.writeUInt32LE(count, HEADER);
  let at = HEADER + 4;
  let start = 0;
  for (let index = 1; index <= column.length; index += 1) {
    if (index < column.length && Object.is(column[index], column[start])) continue;
    bytes.writeDoubleLE(column[start] as number, at);
    bytes.writeUInt32LE(index - start, at + 8);
    at += 12;
    start = index;
  }
  return bytes;
}

/** The column as zigzag varint steps between safe integers (whole-millisecond times). */
function integerDeltas(column: Float64Array, rawBytes: number): Buffer | undefined {
  const bytes = Buffer.alloc(rawBytes);
  header(bytes, INTEGER_DELTAS, column.length);
  const first = column[0] as number;
  if (!Number.isSafeInteger(first) || Object.is(first, -0)) return undefined;
  bytes.writeDoubleLE(first, HEADER);
  let at = HEADER + 8;
  for (let index = 1; index < column.length; index += 1) {
    const value = column[index] as number;
    if (!Number.isSafeInteger(value) || Object.is(value, -0)) return undefined;
    const delta = value - (column[index - 1] as number);
    // Its zigzag (twice it, maybe less one) must stay an exact integer too.
    if (!Number.isSafeInteger(delta) || Math.abs(delta) > MAX_DELTA) return undefined;
    let zigzag = delta >= 0 ? delta * 2 : -delta * 2 - 1;
    // Past the raw size: not worth it (the check also keeps every write in bounds).
    if (at + 8 > rawBytes - 1) return undefined;
    while (zigzag >= 0x80) {
      bytes[at++] = (zigzag % 128) | 0x80;
      zigzag = Math.floor(zigzag / 128);
    }
    bytes[at++] = zigzag;
  }
  return bytes.subarray(0, padded(at));
}

function header(bytes: Buffer, form: number, count: number): void {
  bytes[0] = form;
  bytes.writeUInt32LE(count, 1);
}

/** A compact column's length, one more when it would be a multiple of 8 (the mark of raw bytes). */
function padded(length: number): number {
  return length % 8 === 0 ? length + 1 : length;
}
