/**
 * Worker threads that write parts of a long metric history as JSON bytes while the main
 * thread writes the first part and serves the socket: a million points are ~87 MB of text,
 * and writing a million doubles as text is most of the cost of answering them, so on a
 * machine with more than one core it is shared out. The workers run the same functions as
 * the main thread (`history-bytes.ts`, sent as source), on copies of the columns they need.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { HISTORY_BYTES_CONSTANTS, HISTORY_BYTES_FUNCTIONS } from './history-bytes.js';

/** One part for a worker: runs of points, gathered into contiguous columns. */
export interface GatheredRun {
  head: Uint8Array;
  tail: Uint8Array;
  values: Float64Array;
  times: Float64Array;
  steps: Float64Array;
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
const PIECE_BYTES = 1 << 20;
parentPort.on('message', ({ id, runs, first }) => {
  try {
    const pieces = [];
    const cursor = { piece: new Uint8Array(PIECE_BYTES), at: 0, first };
    for (const run of runs) {
      const count = run.values.length;
      const indexes = new Uint32Array(count);
      for (let at = 0; at < count; at += 1) indexes[at] = at;
      const points = { ...run, indexes };
      for (let next = 0; next < count; ) {
        next = fillPiece(cursor, points, next, count);
        if (next < count) {
          pieces.push(cursor.piece.subarray(0, cursor.at));
          cursor.piece = new Uint8Array(Math.max(PIECE_BYTES, run.head.length + run.tail.length + POINT_BYTES));
          cursor.at = 0;
        }
      }
    }
    if (cursor.at > 0) pieces.push(cursor.piece.subarray(0, cursor.at));
    parentPort.postMessage({ id, pieces }, pieces.map((piece) => piece.buffer));
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message || error) });
  }
});
`;

interface Job {
  resolve: (pieces: Buffer[]) => void;
  reject: (error: Error) => void;
}

class HistoryFormatThreads {
  private readonly workers: (Worker | undefined)[] = [];
  private readonly jobs = new Map<number, Job>();
  private nextId = 0;

  constructor(readonly size: number) {}

  private worker(at: number): Worker {
    const existing = this.workers[at];
    if (existing) return existing;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    worker.on('message', (message: { id: number; pieces?: Uint8Array[]; error?: string }) => {
      const job = this.jobs.get(message.id);
      if (!job) return;
      this.jobs.delete(message.id);
      if (message.pieces) {
        job.resolve(message.pieces.map((piece) => Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength)));
      } else job.reject(new Error(`history formatting failed: ${message.error}`));
    });
    const drop = (error: Error) => {
      // A dead worker is replaced on next use; its jobs fail (their callers write them here).
      if (this.workers[at] === worker) this.workers[at] = undefined;
      for (const [id, job] of this.jobs) {
        if (id % this.size === at) {
          this.jobs.delete(id);
          job.reject(error);
        }
      }
    };
    worker.on('error', drop);
    worker.on('exit', () => drop(new Error('history formatting thread exited')));
    this.workers[at] = worker;
    return worker;
  }

  /** The bytes of `runs`' points; `first` when nothing precedes them (no leading comma). */
  format(runs: GatheredRun[], first: boolean): Promise<Buffer[]> {
    const id = this.nextId;
    this.nextId += 1;
    // Ids map to workers (id % size) so a dead worker fails exactly its own jobs.
    const worker = this.worker(id % this.size);
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { resolve, reject });
      const transfer = runs.flatMap((run) => [run.values.buffer, run.times.buffer, run.steps.buffer]);
      worker.postMessage({ id, runs, first }, transfer as ArrayBuffer[]);
    });
  }
}

let shared: HistoryFormatThreads | undefined | null;

/** The process's formatting threads: one fewer than the cores (at most 3), none on one core. */
export function historyFormatThreads(): HistoryFormatThreads | undefined {
  if (shared === undefined) {
    const size = Math.min(3, availableParallelism() - 1);
    shared = size > 0 ? new HistoryFormatThreads(size) : null;
  }
  return shared ?? undefined;
}
