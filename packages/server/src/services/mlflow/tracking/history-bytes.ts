/**
 * Writing metric points as JSON bytes, `{"key":…,"value":…,"timestamp":…,"step":…}`, straight
 * into a buffer: no string per point, no encoding pass. Everything here is self-contained
 * plain functions over typed arrays, with the constants in `HISTORY_BYTES_CONSTANTS`, so
 * `history-format-threads.ts` can run the very same code in worker threads.
 */

/** The most a point takes besides its key's head and tail: a value, a timestamp and a step
 * (each at most 25 characters as String writes a number), the two names between them and a
 * comma. */
export const POINT_BYTES = 128;

/** The constants the functions below use, by name (a worker's program declares them too). */
export const HISTORY_BYTES_CONSTANTS = {
  COMMA: 0x2c,
  MINUS: 0x2d,
  ZERO: 0x30,
  POINT_BYTES,
  TIMESTAMP: asciiBytes(',"timestamp":'),
  STEP: asciiBytes(',"step":'),
  /** '00' … '99' as byte pairs, to write two digits a division. */
  PAIRS: Uint8Array.from({ length: 200 }, (_, at) =>
    at % 2 === 0 ? 0x30 + Math.floor(at / 20) : 0x30 + (Math.floor(at / 2) % 10),
  ),
};
const { COMMA, MINUS, ZERO, TIMESTAMP, STEP, PAIRS } = HISTORY_BYTES_CONSTANTS;

function asciiBytes(text: string): Uint8Array {
  return Uint8Array.from(text, (char) => char.charCodeAt(0));
}

/** Short byte runs copy faster in a loop than through a native call. */
export function copyBytes(target: Uint8Array, at: number, bytes: Uint8Array): number {
  for (let index = 0; index < bytes.length; index += 1) target[at + index] = bytes[index] as number;
  return at + bytes.length;
}

/** Copies an ASCII string. */
export function copyText(target: Uint8Array, at: number, text: string): number {
  for (let index = 0; index < text.length; index += 1) target[at + index] = text.charCodeAt(index);
  return at + text.length;
}

export function digitCount(value: number): number {
  if (value < 1e4) return value < 10 ? 1 : value < 100 ? 2 : value < 1e3 ? 3 : 4;
  return value < 1e5 ? 5 : value < 1e6 ? 6 : value < 1e7 ? 7 : 8;
}

/** Writes the integer `value`, 0 <= value < 10^8, in `digits` digits (zero-padded), ending at `end`. */
export function writeDigits(target: Uint8Array, end: number, value: number, digits: number): void {
  let rest = value;
  let position = end;
  let left = digits;
  while (left >= 2) {
    const next = (rest / 100) | 0;
    const pair = (rest - next * 100) * 2;
    target[position - 2] = PAIRS[pair] as number;
    target[position - 1] = PAIRS[pair + 1] as number;
    rest = next;
    position -= 2;
    left -= 2;
  }
  if (left === 1) target[position - 1] = ZERO + rest;
}

/**
 * A number as String writes it. Safe integers (steps, millisecond timestamps, whole values)
 * are written a digit pair at a time, in two parts below 10^8 of small-integer arithmetic;
 * everything else takes V8's shortest round-trip text, which is ASCII.
 */
export function writeNumber(target: Uint8Array, at: number, value: number): number {
  if (!Number.isSafeInteger(value)) return copyText(target, at, String(value));
  let start = at;
  let rest = value;
  if (rest < 0) {
    target[start] = MINUS;
    start += 1;
    rest = -rest;
  }
  if (rest < 1e8) {
    const digits = digitCount(rest);
    writeDigits(target, start + digits, rest, digits);
    return start + digits;
  }
  const high = Math.floor(rest / 1e8);
  const highDigits = digitCount(high);
  const end = start + highDigits + 8;
  writeDigits(target, start + highDigits, high, highDigits);
  writeDigits(target, end, rest - high * 1e8, 8);
  return end;
}

/** A metric value as MLflow writes doubles: non-finite ones as strings. */
export function writeDouble(target: Uint8Array, at: number, value: number): number {
  if (Number.isNaN(value)) return copyText(target, at, '"NaN"');
  if (value === Number.POSITIVE_INFINITY) return copyText(target, at, '"Infinity"');
  if (value === Number.NEGATIVE_INFINITY) return copyText(target, at, '"-Infinity"');
  return writeNumber(target, at, value);
}

/** Points of one key to write: `head` is `{"key":<key>,"value":`, `tail` closes the object. */
export interface PointRun {
  head: Uint8Array;
  tail: Uint8Array;
  values: ArrayLike<number>;
  times: ArrayLike<number>;
  steps: ArrayLike<number>;
  /** Indexes into the columns, in answer order. */
  indexes: ArrayLike<number>;
}

/** Where a piece is being written; `first` until a point has been written (no comma before it). */
export interface Cursor {
  piece: Uint8Array;
  at: number;
  first: boolean;
}

/**
 * Writes the run's points `from` … `to - 1` into the cursor's piece while they surely fit;
 * answers the index of the first point not written. A plain function, not a generator: V8
 * optimises this hot loop far better outside one.
 */
export function fillPiece(cursor: Cursor, run: PointRun, from: number, to: number): number {
  const { piece } = cursor;
  const { head, tail, values, times, steps, indexes } = run;
  const limit = piece.length - (head.length + tail.length + POINT_BYTES);
  let at = cursor.at;
  let next = from;
  for (; next < to && at <= limit; next += 1) {
    if (cursor.first) cursor.first = false;
    else {
      piece[at] = COMMA;
      at += 1;
    }
    const index = indexes[next] as number;
    at = copyBytes(piece, at, head);
    at = writeDouble(piece, at, values[index] as number);
    at = copyBytes(piece, at, TIMESTAMP);
    at = writeNumber(piece, at, times[index] as number);
    at = copyBytes(piece, at, STEP);
    at = writeNumber(piece, at, steps[index] as number);
    at = copyBytes(piece, at, tail);
  }
  cursor.at = at;
  return next;
}

/** A run of points within an answer's points in order: they are `start` … `end - 1` of them. */
export interface ChunkRun extends PointRun {
  start: number;
  end: number;
}

/**
 * Points `from` … `to - 1` of an answer (its runs in order, their `indexes` over the whole
 * answer) as one piece, with a comma first unless `from` is 0. Both the main thread and the
 * workers write an answer's chunks with this, whichever claims a chunk first.
 */
export function writeChunk(runs: readonly ChunkRun[], from: number, to: number): Uint8Array {
  let widest = 0;
  for (const run of runs) widest = Math.max(widest, run.head.length + run.tail.length);
  // Room for every point at its longest (see POINT_BYTES), so each fillPiece call below ends its run.
  const piece = new Uint8Array((to - from) * (widest + POINT_BYTES + 1));
  const cursor = { piece, at: 0, first: from === 0 };
  for (const run of runs) {
    const end = Math.min(to, run.end);
    const start = Math.max(from, run.start);
    if (start < end && fillPiece(cursor, run, start, end) !== end) throw new Error('a history chunk overflowed');
  }
  return piece.subarray(0, cursor.at);
}

/** The functions a worker needs, in an order where each is declared before use. */
export const HISTORY_BYTES_FUNCTIONS = [
  copyBytes,
  copyText,
  digitCount,
  writeDigits,
  writeNumber,
  writeDouble,
  fillPiece,
  writeChunk,
];
