/**
 * The write side of a run's `console.ndjson`: what the process wrote to stdout and stderr,
 * cut into lines (each with its time and stream), gathered in numbered chunks and appended
 * one JSON line per chunk in the background. A carriage return keeps what a terminal would
 * show (the last state of a progress bar), a line longer than 16 KiB becomes several
 * records, and a line left unfinished for a whole flush interval is written as it stands.
 *
 * Memory stays bounded without losing output: past 256 KiB waiting a flush is scheduled at
 * once, and past 8 MiB (the process writes faster than the disk takes it) the buffer is
 * written synchronously, so a noisy process slows down rather than loses lines. On exit
 * whatever is buffered, and a write still in flight, are written synchronously; a chunk
 * may then land twice, and readers keep the first of each number.
 */
import { appendFileSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import type { ConsoleStream } from './console-tap.js';

export const CONSOLE_FILE = 'console.ndjson';

export interface ConsoleRecord {
  /** Milliseconds since the Unix epoch. */
  time: number;
  stream: ConsoleStream;
  text: string;
}

/** How the process ended: `status` as the run's, `exitCode` when known. */
export interface ConsoleEnd {
  status: 'Complete' | 'Failed' | 'Interrupted';
  exitCode: number | null;
  time: number;
}

export interface ConsoleChunk {
  seq: number;
  records: ConsoleRecord[];
  end?: ConsoleEnd;
}

export interface ConsoleLogWriterOptions {
  /** Milliseconds between background writes. Default 1000. */
  flushIntervalMs?: number;
}

/** Characters of one record, bytes of one chunk (roughly), bytes buffered before a synchronous write. */
export const MAX_RECORD_TEXT = 16_384;
const CHUNK_BYTES = 256 * 1024;
const MAX_CHUNK_RECORDS = 2000;
const MOST_BUFFERED_BYTES = 8 * 1024 * 1024;
/** What a record costs in a chunk besides its text (`{"time":…,"stream":"stdout","text":""}`). */
const RECORD_OVERHEAD = 48;

interface StreamState {
  decoder: StringDecoder;
  partial: string;
  /** Flushes the partial line has waited through. */
  waited: number;
}

export class ConsoleLogWriter {
  readonly path: string;
  readonly #handle: FileHandle;
  readonly #timer: NodeJS.Timeout;
  readonly #streams: Record<ConsoleStream, StreamState> = {
    stdout: { decoder: new StringDecoder('utf8'), partial: '', waited: 0 },
    stderr: { decoder: new StringDecoder('utf8'), partial: '', waited: 0 },
  };
  #records: ConsoleRecord[] = [];
  #bytes = 0;
  #seq = 0;
  #flushing: Promise<void> = Promise.resolve();
  #flushQueued = false;
  #inFlight: string | undefined;
  #unwritten = '';
  #closed = false;
  #lastError: unknown;

  private constructor(path: string, handle: FileHandle, options: ConsoleLogWriterOptions) {
    this.path = path;
    this.#handle = handle;
    this.#timer = setInterval(() => this.#flushInBackground(true), options.flushIntervalMs ?? 1000);
    this.#timer.unref();
  }

  /** Creates the console log of a new run. */
  static async create(path: string, options: ConsoleLogWriterOptions = {}): Promise<ConsoleLogWriter> {
    return new ConsoleLogWriter(path, await open(path, 'ax'), options);
  }

  /** The error of the last failed background write, until one succeeds. */
  get lastError(): unknown {
    return this.#lastError;
  }

  /** Takes one write of the process; never touches the disk unless the buffer is full. */
  add(stream: ConsoleStream, chunk: string | Uint8Array, time = Date.now()): void {
    if (this.#closed) return;
    const state = this.#streams[stream];
    const text = state.partial + (typeof chunk === 'string' ? chunk : state.decoder.write(chunk));
    const lines = text.split('\n');
    state.partial = lines.pop() ?? '';
    if (lines.length > 0) state.waited = 0;
    for (const line of lines) this.#push(stream, shown(line), time);
    // A partial line this long is written as it stands rather than held.
    if (state.partial.length > MAX_RECORD_TEXT) {
      this.#push(stream, shown(state.partial), time);
      state.partial = '';
    }
    if (this.#bytes >= MOST_BUFFERED_BYTES) this.flushSync();
    else if (this.#bytes >= CHUNK_BYTES && !this.#flushQueued) {
      this.#flushQueued = true;
      setImmediate(() => this.#flushInBackground(false));
    }
  }

  /** Writes everything buffered, unfinished lines included. */
  flush(): Promise<void> {
    this.#takePartials(0);
    return this.#queueFlush();
  }

  /** Writes what is left, then `end` as the last chunk, and closes the file. */
  async close(end: ConsoleEnd): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#timer);
    this.#takePartials(0);
    try {
      await this.#queueFlush(end);
    } finally {
      this.#closed = true;
      await this.#handle.close();
    }
  }

  /**
   * Writes what is buffered, a write still in flight and, when given, `end`, synchronously
   * (for process exit and a full buffer).
   */
  flushSync(end?: ConsoleEnd): void {
    if (this.#closed) return;
    if (end) this.#takePartials(0);
    const text = (this.#inFlight ?? '') + (this.#unwritten === '' ? '' : `\n${this.#unwritten}`) + this.#encode(end);
    if (text === '') return;
    appendFileSync(this.path, text);
    this.#inFlight = undefined;
    this.#unwritten = '';
    if (end) {
      this.#closed = true;
      clearInterval(this.#timer);
      this.#handle.close().catch(() => {});
    }
  }

  #push(stream: ConsoleStream, text: string, time: number): void {
    let start = 0;
    do {
      const piece = text.slice(start, start + MAX_RECORD_TEXT);
      this.#records.push({ time, stream, text: piece });
      this.#bytes += piece.length + RECORD_OVERHEAD;
      start += MAX_RECORD_TEXT;
    } while (start < text.length);
  }

  /** Turns unfinished lines that waited `patience` flushes or more into records. */
  #takePartials(patience: number): void {
    const now = Date.now();
    for (const [stream, state] of Object.entries(this.#streams) as [ConsoleStream, StreamState][]) {
      if (state.partial === '') continue;
      if (state.waited >= patience) {
        this.#push(stream, shown(state.partial), now);
        state.partial = '';
        state.waited = 0;
      } else state.waited++;
    }
  }

  #flushInBackground(timer: boolean): void {
    this.#flushQueued = false;
    if (this.#closed) return;
    if (timer) this.#takePartials(1);
    this.#queueFlush().then(
      () => {
        this.#lastError = undefined;
      },
      (error: unknown) => {
        this.#lastError = error;
      },
    );
  }

  #queueFlush(end?: ConsoleEnd): Promise<void> {
    const next = this.#flushing.then(async () => {
      if (this.#closed) return;
      // Text a failed write left is written again first, on a line of its own (a write
      // cut short leaves a broken line, which readers skip).
      const text = (this.#unwritten === '' ? '' : `\n${this.#unwritten}`) + this.#encode(end);
      if (text === '') return;
      this.#inFlight = text;
      this.#unwritten = '';
      try {
        await this.#handle.appendFile(text);
      } catch (error) {
        this.#unwritten = text;
        throw error;
      } finally {
        this.#inFlight = undefined;
      }
    });
    this.#flushing = next.catch(() => {});
    return next;
  }

  /** The buffered records as chunk lines (numbered on), `end` in the last one; empties the buffer. */
  #encode(end?: ConsoleEnd): string {
    const records = this.#records;
    const lines: string[] = [];
    let from = 0;
    while (from < records.length) {
      let to = from;
      let bytes = 0;
      while (to < records.length && to - from < MAX_CHUNK_RECORDS && (to === from || bytes < CHUNK_BYTES)) {
        bytes += (records[to] as ConsoleRecord).text.length + RECORD_OVERHEAD;
        to++;
      }
      const chunk: ConsoleChunk = { seq: this.#seq++, records: records.slice(from, to) };
      if (to === records.length && end) chunk.end = end;
      lines.push(`${JSON.stringify(chunk)}\n`);
      from = to;
    }
    if (lines.length === 0 && end) lines.push(`${JSON.stringify({ seq: this.#seq++, records: [], end })}\n`);
    this.#records = [];
    this.#bytes = 0;
    return lines.join('');
  }
}

/** What a terminal shows of a line: the text after its last carriage return. */
function shown(line: string): string {
  const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
  const last = trimmed.lastIndexOf('\r');
  return last === -1 ? trimmed : trimmed.slice(last + 1);
}
