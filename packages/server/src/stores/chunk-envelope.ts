/**
 * A chunk's envelope: what a downsampled read of a long series needs from a chunk instead of
 * its 4,096 points (its two ends, its lowest and highest values with where they are, and the
 * range of its steps). Stored beside each chunk, in a small row of its own, so reading a
 * 100-million-point series at full zoom touches ~25,000 rows of 104 bytes, not 1.6 GB.
 */
import type { PointColumns } from './metric-store.js';

export interface ChunkEnvelope {
  seq: number;
  count: number;
  firstStep: number;
  firstValue: number;
  lastStep: number;
  lastValue: number;
  /** Index in the chunk of its lowest finite value, -1 when it has none. */
  minIndex: number;
  minStep: number;
  minValue: number;
  maxIndex: number;
  maxStep: number;
  maxValue: number;
  /** The lowest and highest step in the chunk (steps need not be in order). */
  stepLow: number;
  stepHigh: number;
}

const FIELDS = 13;

export function envelopeOf(seq: number, columns: PointColumns): ChunkEnvelope {
  const { steps, values } = columns;
  const count = steps.length;
  let minIndex = -1;
  let maxIndex = -1;
  let stepLow = Number.POSITIVE_INFINITY;
  let stepHigh = Number.NEGATIVE_INFINITY;
  for (let index = 0; index < count; index += 1) {
    const step = steps[index] as number;
    if (step < stepLow) stepLow = step;
    if (step > stepHigh) stepHigh = step;
    const value = values[index] as number;
    if (!Number.isFinite(value)) continue;
    if (minIndex < 0 || value < (values[minIndex] as number)) minIndex = index;
    if (maxIndex < 0 || value > (values[maxIndex] as number)) maxIndex = index;
  }
  const at = (column: Float64Array, index: number) => (index < 0 ? Number.NaN : (column[index] as number));
  return {
    seq,
    count,
    firstStep: at(steps, 0),
    firstValue: at(values, 0),
    lastStep: at(steps, count - 1),
    lastValue: at(values, count - 1),
    minIndex,
    minStep: at(steps, minIndex),
    minValue: at(values, minIndex),
    maxIndex,
    maxStep: at(steps, maxIndex),
    maxValue: at(values, maxIndex),
    stepLow,
    stepHigh,
  };
}

export function packEnvelope(envelope: ChunkEnvelope): Buffer {
  const packed = Float64Array.of(
    envelope.count,
    envelope.firstStep,
    envelope.firstValue,
    envelope.lastStep,
    envelope.lastValue,
    envelope.minIndex,
    envelope.minStep,
    envelope.minValue,
    envelope.maxIndex,
    envelope.maxStep,
    envelope.maxValue,
    envelope.stepLow,
    envelope.stepHigh,
  );
  return Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
}

export function unpackEnvelope(seq: number, bytes: Uint8Array): ChunkEnvelope | undefined {
  if (bytes.byteLength !== FIELDS * 8) return undefined;
  const copy = new Float64Array(FIELDS);
  new Uint8Array(copy.buffer).set(bytes);
  const [count, firstStep, firstValue, lastStep, lastValue, minIndex, minStep, minValue, maxIndex, maxStep, maxValue] =
    copy as unknown as number[];
  return {
    seq,
    count: count as number,
    firstStep: firstStep as number,
    firstValue: firstValue as number,
    lastStep: lastStep as number,
    lastValue: lastValue as number,
    minIndex: minIndex as number,
    minStep: minStep as number,
    minValue: minValue as number,
    maxIndex: maxIndex as number,
    maxStep: maxStep as number,
    maxValue: maxValue as number,
    stepLow: copy[11] as number,
    stepHigh: copy[12] as number,
  };
}
