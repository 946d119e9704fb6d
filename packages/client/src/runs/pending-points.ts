/**
 * The points of one series an uploader holds but the server has not acknowledged: the
 * chunks as they were read or handed over, kept whole (a segment list, not a copy per
 * point), so adding a chunk, taking a batch and dropping what the server acknowledged cost
 * a view or a few column copies rather than a push and a splice per point. Chunks that lie
 * side by side in one block of memory (the live writer's consecutive flushes) are taken as
 * one view, not copied.
 */
import type { MetricChunk } from './metric-chunk.js';

interface Segment {
  chunk: MetricChunk;
  /** Index in the chunk's columns of the segment's first pending point. */
  from: number;
}

/** A batch of consecutive points of the series, starting at index `offset`. */
export interface PendingBatch {
  offset: number;
  steps: Float64Array;
  /** NaN stands for not a number. */
  values: Float64Array;
  /** NaN where a point has no epoch; `null` when none of the batch's points has one. */
  epochs: Float64Array | null;
  times: Float64Array;
}

export class PendingPoints {
  readonly type: string;
  readonly name: string;
  /** Index within the series of the first pending point. */
  #start: number;
  #length = 0;
  readonly #segments: Segment[] = [];

  constructor(type: string, name: string, start: number) {
    this.type = type;
    this.name = name;
    this.#start = start;
  }

  /** Points held. */
  get length(): number {
    return this.#length;
  }

  /** Index within the series after the last point held. */
  get end(): number {
    return this.#start + this.#length;
  }

  /**
   * Adds a chunk's points from `end` on (points already held or acknowledged are skipped);
   * answers how many were added. The caller checks that the chunk leaves no gap.
   */
  add(chunk: MetricChunk): number {
    const from = this.end - chunk.offset;
    const added = chunk.steps.length - from;
    if (from < 0 || added <= 0) return 0;
    this.#segments.push({ chunk, from });
    this.#length += added;
    return added;
  }

  /** The first `count` points held (or all of them): a view of adjoining segments, or the segments joined. */
  take(count: number): PendingBatch {
    const take = Math.min(count, this.#length);
    const parts: MetricChunk[] = [];
    let hasEpoch = false;
    let room = take;
    for (const { chunk, from } of this.#segments) {
      if (room === 0) break;
      const to = Math.min(chunk.steps.length, from + room);
      const whole = from === 0 && to === chunk.steps.length;
      const part = (column: Float64Array) => (whole ? column : column.subarray(from, to));
      const next: MetricChunk = {
        ...chunk,
        steps: part(chunk.steps),
        values: part(chunk.values),
        epochs: chunk.epochs ? part(chunk.epochs) : null,
        times: part(chunk.times),
      };
      const last = parts.at(-1);
      if (last && adjoins(last, next)) parts[parts.length - 1] = joinedView(last, next);
      else parts.push(next);
      if (chunk.epochs) hasEpoch = true;
      room -= to - from;
    }
    if (parts.length === 1) {
      const [only] = parts as [MetricChunk];
      return { offset: this.#start, steps: only.steps, values: only.values, epochs: only.epochs, times: only.times };
    }
    return {
      offset: this.#start,
      steps: joinColumns(parts.map((part) => part.steps)),
      values: joinColumns(parts.map((part) => part.values)),
      epochs: hasEpoch
        ? joinColumns(parts.map((part) => part.epochs ?? new Float64Array(part.steps.length).fill(Number.NaN)))
        : null,
      times: joinColumns(parts.map((part) => part.times)),
    };
  }

  /** Forgets the points before index `count` of the series (the server holds them); answers how many. */
  acknowledge(count: number): number {
    let drop = Math.min(this.#length, Math.max(0, count - this.#start));
    const dropped = drop;
    this.#start += drop;
    this.#length -= drop;
    while (drop > 0) {
      const segment = this.#segments[0] as Segment;
      const left = segment.chunk.steps.length - segment.from;
      if (left <= drop) {
        this.#segments.shift();
        drop -= left;
      } else {
        segment.from += drop;
        drop = 0;
      }
    }
    return dropped;
  }
}

/** Whether each column of `second` starts in memory where the same column of `first` ends. */
function adjoins(first: MetricChunk, second: MetricChunk): boolean {
  const next = (a: Float64Array, b: Float64Array) =>
    a.buffer === b.buffer && a.byteOffset + a.byteLength === b.byteOffset;
  if ((first.epochs === null) !== (second.epochs === null)) return false;
  if (first.epochs && second.epochs && !next(first.epochs, second.epochs)) return false;
  return next(first.steps, second.steps) && next(first.values, second.values) && next(first.times, second.times);
}

/** One view over two adjoining chunks' columns. */
function joinedView(first: MetricChunk, second: MetricChunk): MetricChunk {
  const span = (a: Float64Array, b: Float64Array) => new Float64Array(a.buffer, a.byteOffset, a.length + b.length);
  return {
    ...first,
    steps: span(first.steps, second.steps),
    values: span(first.values, second.values),
    epochs: first.epochs && second.epochs ? span(first.epochs, second.epochs) : null,
    times: span(first.times, second.times),
  };
}

function joinColumns(parts: readonly Float64Array[]): Float64Array {
  const joined = new Float64Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return joined;
}
