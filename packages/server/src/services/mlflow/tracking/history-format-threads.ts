/**
 * Worker threads that write chunks of a long metric history as JSON bytes beside the main
 * thread: a million points are ~87 MB of text, and writing a million doubles as text is most
 * of the cost of answering them, so on a machine with more than one core it is shared out.
 * The answer's columns are shared (SharedArrayBuffer), and every thread, the main one too,
 * claims the next unwritten chunk from one shared counter and writes it, so the chunks come
 * in order, the socket and the client's read go on all along, and no thread waits while
 * another has much left, however busy the main thread or the client is. The workers run the
 * same functions as the main thread (`history-bytes.ts`, sent as source).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { HISTORY_BYTES_CONSTANTS, HISTORY_BYTES_FUNCTIONS } from './history-bytes.js';

/** An answer to write in chunks: its runs in order, over columns of all its points in order. */
export interface ChunkJob {
  runs: { head: Uint8Array; tail: Uint8Array; start: number; end: number }[];
  /** Shared columns of the answer's points, in answer order, and their positions (0, 1, …). */
  values: Float64Array;
  times: Float64Array;
  steps: Float64Array;
  indexes: Uint32Array;
  /** The next chunk to claim, shared by every thread writing this answer. */
  claims: Int32Array;
  chunkPoints: number;
}

function constantSource(name: string, value: unknown): string {
  if (value instanceof Uint8Array) return `const ${name} = Uint8Array.from(${JSON.stringify([...value])});`;
  return `const ${name} = ${JSON.stringify(value)};`;
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
${Object.entries(HISTORY_BYTES_CONSTANTS)
  .map(([name, value]) => constantSource(name, value))
  .join('\n')}
${HISTORY_BYTES_FUNCTIONS.map((fn) => fn.toString()).join('\n')}
parentPort.on('message', ({ id, job }) => {
  try {
    const { values, times, steps, indexes, claims, chunkPoints } = job;
    const runs = job.runs.map((run) => ({ ...run, values, times, steps, indexes }));
    const chunks = Math.ceil(values.length / chunkPoints);
    for (;;) {
      const chunk = Atomics.add(claims, 0, 1);
      if (chunk >= chunks) break;
      const piece = writeChunk(runs, chunk * chunkPoints, Math.min(values.length, (chunk + 1) * chunkPoints));
      parentPort.postMessage({ id, chunk, piece }, [piece.buffer]);
    }
    parentPort.postMessage({ id, done: true });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message || error) });
  }
});
`;

/**
 * The chunks the threads have written for one answer, taken by its reader in order. A thread
 * that fails leaves the chunks it claimed unwritten; `failure` tells the reader to write them.
 */
export class ChunkFeed {
  failure: Error | undefined;
  private readonly ready = new Map<number, Buffer>();
  private wake: (() => void) | undefined;

  put(chunk: number, piece: Uint8Array): void {
    this.ready.set(chunk, Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
    this.wake?.();
  }

  fail(error: Error): void {
    this.failure = error;
    this.wake?.();
  }

  /** The chunk, when written (and forgets it). */
  take(chunk: number): Buffer | undefined {
    const piece = this.ready.get(chunk);
    this.ready.delete(chunk);
    return piece;
  }

  /** Resolves at the next chunk or failure. */
  arrival(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve();
      };
    });
  }
}

/** Threads that write chunks of answers: `size` of them. */
export interface FormatThreads {
  readonly size: number;
  /** Every thread takes part in the job; its chunks arrive in the feed as they are written. */
  format(job: ChunkJob): ChunkFeed;
}

interface ThreadMessage {
  id: number;
  chunk?: number;
  piece?: Uint8Array;
  done?: boolean;
  error?: string;
}

export class HistoryFormatThreads implements FormatThreads {
  private readonly workers: (Worker | undefined)[] = [];
  /** Each worker's share of a job has its own id; ids map to workers (id % size). */
  private readonly jobs = new Map<number, ChunkFeed>();
  private nextId = 0;

  constructor(readonly size: number) {}

  private worker(at: number): Worker {
    const existing = this.workers[at];
    if (existing) return existing;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    worker.on('message', (message: ThreadMessage) => {
      const feed = this.jobs.get(message.id);
      if (!feed) return;
      if (message.piece && message.chunk !== undefined) feed.put(message.chunk, message.piece);
      else {
        this.jobs.delete(message.id);
        if (!message.done) feed.fail(new Error(`history formatting failed: ${message.error}`));
      }
    });
    const drop = (error: Error) => {
      // A dead worker is replaced on next use; its jobs' readers write what it left.
      if (this.workers[at] === worker) this.workers[at] = undefined;
      for (const [id, feed] of this.jobs) {
        if (id % this.size === at) {
          this.jobs.delete(id);
          feed.fail(error);
        }
      }
    };
    worker.on('error', drop);
    worker.on('exit', () => drop(new Error('history formatting thread exited')));
    this.workers[at] = worker;
    return worker;
  }

  format(job: ChunkJob): ChunkFeed {
    const feed = new ChunkFeed();
    for (let at = 0; at < this.size; at += 1) {
      // nextId stays a multiple of size, so this id maps to worker `at`.
      const id = this.nextId + at;
      this.jobs.set(id, feed);
      this.worker(at).postMessage({ id, job });
    }
    this.nextId += this.size;
    return feed;
  }
}

let shared: HistoryFormatThreads | undefined | null;

/** The process's formatting threads: one fewer than the cores (at most 3), none on one core. */
export function historyFormatThreads(): FormatThreads | undefined {
  if (shared === undefined) {
    const size = Math.min(3, availableParallelism() - 1);
    shared = size > 0 ? new HistoryFormatThreads(size) : null;
  }
  return shared ?? undefined;
}
