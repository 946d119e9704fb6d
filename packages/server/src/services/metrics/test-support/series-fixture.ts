/**
 * A long series for the downsampling tests, held in memory with every envelope level, and a
 * metric-store stand-in over it that notes what each read asks for.
 */
import {
  type ChunkEnvelope,
  envelopeOf,
  GROUP_CHUNKS,
  segmentEnvelopes,
  spansOf,
} from '../../../stores/chunk-envelope.js';
import { CHUNK_POINTS, type PointColumns, type SeriesKey } from '../../../stores/metric-store.js';
import type { EnvelopeSource } from '../downsampled-read.js';

/** `chunks` full chunks of a noisy curve (steps 0, 2, 4, …), one spike up, one down and one gap. */
export function series(chunks: number) {
  const total = chunks * CHUNK_POINTS;
  const steps = new Float64Array(total);
  const values = new Float64Array(total);
  let seed = 7;
  for (let index = 0; index < total; index += 1) {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    steps[index] = index * 2;
    values[index] = Math.sin(index / 5000) + seed / 2 ** 33;
  }
  values[Math.floor(total * 0.37)] = 50;
  values[Math.floor(total * 0.81)] = -50;
  values[Math.floor(total * 0.5)] = Number.NaN;
  const parts: { seq: number; columns: PointColumns }[] = [];
  for (let seq = 0; seq < chunks; seq += 1) {
    const slice = (column: Float64Array) => column.subarray(seq * CHUNK_POINTS, (seq + 1) * CHUNK_POINTS);
    parts.push({
      seq,
      columns: { steps: slice(steps), values: slice(values), epochs: new Float64Array(0), times: new Float64Array(0) },
    });
  }
  const envelopes = parts.map((part) => envelopeOf(part.seq, part.columns));
  const segments = parts.map((part) => segmentEnvelopes(part.seq, part.columns));
  return { steps, values, parts, envelopes, segments };
}

/** What a read asked the stand-in for. */
export interface Asked {
  chunkEnvelopes: number[];
  segments: number[];
  points: number[];
}

/** A stand-in store over `data`; chunks below `enveloped` have no envelopes (as before they were kept). */
export function sourceOf(data: ReturnType<typeof series>, enveloped = 0): { source: EnvelopeSource; asked: Asked } {
  const chunks = data.parts.length;
  const kept = data.envelopes.filter((envelope) => envelope.seq >= enveloped);
  const spans: ChunkEnvelope[] = [];
  for (let first = 0; first < chunks; first += GROUP_CHUNKS) {
    spans.push(
      ...spansOf(
        kept.filter((envelope) => envelope.seq >= first && envelope.seq < first + GROUP_CHUNKS),
        chunks,
      ),
    );
  }
  const asked: Asked = { chunkEnvelopes: [], segments: [], points: [] };
  const source: EnvelopeSource = {
    spanEnvelopes: async (_key: SeriesKey) => ({ chunks, spans }),
    chunkEnvelopes: async (_key: SeriesKey, seqs: readonly number[]) => {
      asked.chunkEnvelopes.push(...seqs);
      return kept.filter((envelope) => seqs.includes(envelope.seq));
    },
    segmentEnvelopes: async (_key: SeriesKey, seqs: readonly number[]) => {
      asked.segments.push(...seqs);
      return [...seqs].sort((a, b) => a - b).flatMap((seq) => (seq >= enveloped ? (data.segments[seq] ?? []) : []));
    },
    readChunks: async (_key: SeriesKey, seqs: readonly number[]) => {
      asked.points.push(...seqs);
      return data.parts.filter((part) => seqs.includes(part.seq));
    },
  };
  return { source, asked };
}
