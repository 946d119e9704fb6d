/**
 * The points of one series an uploader holds but the server has not acknowledged: the
 * chunks as they were read or handed over, kept whole (a segment list, not a copy per
 * point), so adding a chunk, taking a batch and dropping what the server acknowledged cost
 * a few array copies rather than a push and a splice per point.
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
  steps: number[];
  values: (number | null)[];
  /** `null` when none of the batch's points has an epoch. */
  epochs: (number | null)[] | null;
  times: number[];
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

  /** The first `count` points held (or all of them), copied out of the segments. */
  take(count: number): PendingBatch {
    const take = Math.min(count, this.#length);
    const steps: number[][] = [];
    const values: (number | null)[][] = [];
    const epochs: ((number | null)[] | undefined)[] = [];
    const times: number[][] = [];
    let hasEpoch = false;
    let room = take;
    for (const { chunk, from } of this.#segments) {
      if (room === 0) break;
      const to = Math.min(chunk.steps.length, from + room);
      const whole = from === 0 && to === chunk.steps.length;
      steps.push(whole ? chunk.steps : chunk.steps.slice(from, to));
      values.push(whole ? chunk.values : chunk.values.slice(from, to));
      times.push(whole ? chunk.times : chunk.times.slice(from, to));
      if (chunk.epochs) {
        hasEpoch = true;
        epochs.push(whole ? chunk.epochs : chunk.epochs.slice(from, to));
      } else {
        epochs.push(undefined);
      }
      room -= to - from;
    }
    const join = <T>(parts: T[][]): T[] => (parts.length === 1 ? (parts[0] as T[]) : ([] as T[]).concat(...parts));
    return {
      offset: this.#start,
      steps: join(steps),
      values: join(values),
      epochs: hasEpoch
        ? join(epochs.map((part, index) => part ?? new Array<null>((steps[index] as number[]).length).fill(null)))
        : null,
      times: join(times),
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
