/**
 * The records of the local metric log (`metrics.lmc`, see LOCAL-FORMAT.md): each write of
 * the writer is one record, the wire's metric columns (`LMC1`, `@larder/protocol`) framed
 * so a reader tells a whole record from one a crash cut short. Encoding costs a copy per
 * column, not a number's text per point, and the uploader sends the same columns.
 *
 * Frame: `LMR1` · u32 body length · body · u32 body length · `LMRE` (little-endian); the
 * body's length is a multiple of 8, so records keep their columns aligned in the file.
 */
import { decodeMetricColumns, encodeMetricColumns, LarderError } from '@larder/protocol';
import type { MetricChunk } from './metric-chunk.js';

const OPEN = 0x31524d4c; // "LMR1", read as a little-endian u32
const CLOSE = 0x45524d4c; // "LMRE"
const FRAME_BYTES = 16;
/** Larger than any record the writer makes (100,000 points of four columns is 3.2 MB). */
const MAX_BODY_BYTES = 1024 * 1024 * 1024;

/** One record holding `chunks`, as the buffers to write in order. */
export function encodeMetricRecord(chunks: readonly MetricChunk[]): Uint8Array[] {
  const body = encodeMetricColumns(
    '',
    chunks.map((chunk) => ({
      type: chunk.type,
      name: chunk.name,
      offset: chunk.offset,
      steps: chunk.steps,
      values: chunk.values,
      epochs: chunk.epochs ?? undefined,
      times: chunk.times,
    })),
  );
  const head = Buffer.allocUnsafe(8);
  head.writeUInt32LE(OPEN, 0);
  head.writeUInt32LE(body.length, 4);
  const tail = Buffer.allocUnsafe(8);
  tail.writeUInt32LE(body.length, 0);
  tail.writeUInt32LE(CLOSE, 4);
  return [head, body, tail];
}

/** What a decoder found in the first `length` bytes of a read. */
export interface DecodedChunks {
  chunks: MetricChunk[];
  /** Bytes of whole records (or lines) decoded; the next read starts after them. */
  used: number;
  /** When nothing whole fitted: how many bytes the next read needs at least. */
  need?: number;
}

/**
 * The whole records at the start of `buffer`. A record cut short at the end of the file
 * (a crash during a write) is left out; a damaged record anywhere else is an error.
 */
export function decodeMetricRecords(path: string, buffer: Buffer, length: number, atFileEnd: boolean): DecodedChunks {
  const chunks: MetricChunk[] = [];
  let at = 0;
  const damaged = (why: string): never => {
    throw new LarderError('BadRequest', `${path} holds a damaged record at byte ${at} (${why})`);
  };
  while (length - at >= 8) {
    const open = buffer.readUInt32LE(at);
    const bodyLength = buffer.readUInt32LE(at + 4);
    if (open !== OPEN || bodyLength % 8 !== 0 || bodyLength > MAX_BODY_BYTES) {
      if (atFileEnd && isZero(buffer, at, length)) break;
      damaged('no record starts there');
    }
    const end = at + FRAME_BYTES + bodyLength;
    if (end > length) {
      if (atFileEnd) break;
      return { chunks, used: at, ...(chunks.length === 0 ? { need: end } : {}) };
    }
    if (buffer.readUInt32LE(end - 8) !== bodyLength || buffer.readUInt32LE(end - 4) !== CLOSE) {
      if (atFileEnd && isZero(buffer, end - 8, length)) break;
      damaged('its end marker is wrong');
    }
    let decoded: ReturnType<typeof decodeMetricColumns> | undefined;
    try {
      decoded = decodeMetricColumns(buffer.subarray(at + 8, end - 8));
    } catch (cause) {
      damaged(cause instanceof Error ? cause.message : String(cause));
    }
    for (const series of (decoded as ReturnType<typeof decodeMetricColumns>).series) {
      if (!series.times) damaged(`${series.type}/${series.name} has no times`);
      chunks.push({
        type: series.type,
        name: series.name,
        offset: series.offset,
        steps: series.steps,
        values: series.values,
        epochs: series.epochs ?? null,
        times: series.times as Float64Array,
      });
    }
    at = end;
  }
  return { chunks, used: at, ...(at === 0 && !atFileEnd ? { need: FRAME_BYTES } : {}) };
}

/** Whether bytes `[from, to)` are all zero: a file extended by a crash before its data landed. */
function isZero(buffer: Buffer, from: number, to: number): boolean {
  for (let index = from; index < to; index += 1) if (buffer[index] !== 0) return false;
  return true;
}
