/**
 * The open chunk of a series (its last, while it holds fewer than `CHUNK_POINTS` points) is
 * stored as the pieces its appends brought, without envelopes of its own: so an append writes
 * only its points, never the chunk and envelope rows it did not change. Reads join the pieces
 * and work out the open chunk's envelopes from its points (4,095 at most) as they go.
 */
import { type ChunkEnvelope, foldChunks, foldEnvelopes, SPAN_CHUNKS, segmentEnvelopes } from './chunk-envelope.js';
import type { PointColumns } from './metric-store.js';
import { concatColumns, concatValues } from './series-chunks.js';

/** A piece of an open chunk: `start` is the index in the chunk of its first point. */
export interface ChunkPiece {
  start: number;
  columns: PointColumns;
}

/** The open chunk's points from its pieces (in any order); epochs and times too when `withTimes`. */
export function joinPieces(pieces: readonly ChunkPiece[], withTimes = true): PointColumns {
  const ordered = [...pieces].sort((a, b) => a.start - b.start);
  const parts = ordered.map((piece) => piece.columns);
  return withTimes ? concatColumns(parts) : concatValues(parts);
}

/** The envelopes of the open chunk `seq`: its segments', and its own (their fold). */
export function openChunkEnvelopes(
  seq: number,
  columns: PointColumns,
): { segments: ChunkEnvelope[]; chunk: ChunkEnvelope | undefined } {
  if (columns.steps.length === 0) return { segments: [], chunk: undefined };
  const segments = segmentEnvelopes(seq, columns);
  return { segments, chunk: foldEnvelopes(segments) };
}

/**
 * The series' spans with the open chunk (`open`, its envelope) in the last: the stored spans
 * cover whole chunks only. When a whole chunk of the open chunk's span has no envelope (stored
 * before envelopes were kept), that span has none, as for whole chunks.
 */
export function withOpenSpan(spans: readonly ChunkEnvelope[], open: ChunkEnvelope | undefined): ChunkEnvelope[] {
  if (!open) return [...spans];
  const spanStart = open.seq - (open.seq % SPAN_CHUNKS);
  if (open.seq === spanStart) return [...spans, foldChunks([open])];
  const last = spans[spans.length - 1];
  if (last?.seq !== spanStart) return [...spans];
  return [...spans.slice(0, -1), foldChunks([last, open])];
}
