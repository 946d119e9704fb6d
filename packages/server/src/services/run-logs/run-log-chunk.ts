/**
 * The wire form of a run's console output: chunks of records, numbered from 0 by the SDK
 * that captured them. A chunk is `{ run, seq, records: [{ time, stream, text }], end? }`;
 * `end` (`{ status, exitCode, time }`) closes the log when the process finished. Checked
 * here, whole, before anything is stored.
 */
import { LarderError } from '@larder/protocol';

export const LOG_STREAMS = ['stdout', 'stderr'] as const;
export type LogStream = (typeof LOG_STREAMS)[number];

export interface LogRecord {
  /** Milliseconds since the Unix epoch. */
  time: number;
  stream: LogStream;
  text: string;
}

export interface LogEnd {
  status: string;
  /** The process's exit code, null when it was not known. */
  exitCode: number | null;
  time: number;
}

export interface LogChunk {
  run: string;
  seq: number;
  records: LogRecord[];
  end?: LogEnd;
}

/** Records one chunk may hold, and characters one record's text may hold. */
export const MAX_RECORDS_PER_CHUNK = 10_000;
export const MAX_TEXT_LENGTH = 65_536;
export const MAX_SEQ = 1_000_000_000;
const END_STATUSES = ['Complete', 'Failed', 'Interrupted'];

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/** Validates a `POST /run-logs` body. */
export function parseLogChunk(body: unknown): LogChunk {
  if (!isObject(body)) throw new LarderError('BadRequest', 'Send console output as { run, seq, records: [...] }');
  const { run, seq, records, end } = body;
  if (typeof run !== 'string' || run === '') throw new LarderError('BadRequest', '"run" is the id of the run');
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0 || seq > MAX_SEQ) {
    throw new LarderError('BadRequest', `"seq" is the chunk's number, a whole number from 0 to ${MAX_SEQ}`);
  }
  if (!Array.isArray(records) || records.length > MAX_RECORDS_PER_CHUNK) {
    throw new LarderError(
      'BadRequest',
      `"records" is an array of at most ${MAX_RECORDS_PER_CHUNK} { time, stream, text }`,
    );
  }
  const checked = records.map((record, index): LogRecord => {
    if (
      !isObject(record) ||
      !isTime(record.time) ||
      !(LOG_STREAMS as readonly unknown[]).includes(record.stream) ||
      typeof record.text !== 'string' ||
      record.text.length > MAX_TEXT_LENGTH
    ) {
      throw new LarderError(
        'BadRequest',
        `records[${index}] must be { time: <ms since the epoch>, stream: "stdout" | "stderr", text: <at most ${MAX_TEXT_LENGTH} characters> }`,
      );
    }
    return { time: record.time, stream: record.stream as LogStream, text: record.text };
  });
  const chunk: LogChunk = { run, seq, records: checked };
  if (end !== undefined) {
    if (
      !isObject(end) ||
      !END_STATUSES.includes(end.status as string) ||
      !(end.exitCode === null || (typeof end.exitCode === 'number' && Number.isInteger(end.exitCode))) ||
      !isTime(end.time)
    ) {
      throw new LarderError(
        'BadRequest',
        `"end" is { status: ${END_STATUSES.join(' | ')}, exitCode: <integer> | null, time: <ms since the epoch> }`,
      );
    }
    chunk.end = { status: end.status as string, exitCode: end.exitCode as number | null, time: end.time };
  }
  return chunk;
}
