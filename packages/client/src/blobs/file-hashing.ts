/**
 * Hashing files off the main thread: a small pool of worker threads, each reading a file
 * once and computing, in that one pass, the SHA-256 of the whole, the SHA-256 of each
 * upload chunk and, when asked, the MD5 (what a PMF tree records for its checkpoints). The
 * main thread stays free to send the files already hashed while the next ones are read.
 *
 * @example
 * const pool = new HashPool();
 * const { sha256, chunks, md5 } = await pool.hash('./weights.bin', { chunkBytes: 64 << 20, md5: true });
 * await pool.close();
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { LarderError } from '@larder/protocol';
import type { ChunkPlan } from './blob-source.js';

export interface FileHashes extends ChunkPlan {
  size: number;
  /** Present when asked for. */
  md5?: string;
}

export interface HashRequest {
  chunkBytes: number;
  md5?: boolean;
}

// Plain JavaScript evaluated in the worker: it runs the same from the built SDK and from
// sources under a test runner. Reads go through one reused buffer, so memory stays flat.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, fstatSync, closeSync } = require('node:fs');
const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
parentPort.on('message', ({ id, path, chunkBytes, md5 }) => {
  let fd;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const whole = createHash('sha256');
    const digest = md5 ? createHash('md5') : undefined;
    // A file of one chunk is that chunk: its hash is the whole's, computed once.
    const single = size <= chunkBytes;
    const chunks = [];
    let start = 0;
    do {
      const end = Math.min(start + chunkBytes, size);
      const part = single ? undefined : createHash('sha256');
      for (let at = start; at < end; ) {
        const bytesRead = readSync(fd, buffer, 0, Math.min(buffer.length, end - at), at);
        if (bytesRead === 0) throw new Error(path + ' shrank while it was being hashed');
        const bytes = buffer.subarray(0, bytesRead);
        if (part) part.update(bytes);
        whole.update(bytes);
        if (digest) digest.update(bytes);
        at += bytesRead;
      }
      chunks.push({ start, end, sha256: part ? part.digest('hex') : '' });
      start = end;
    } while (start < size);
    if (fstatSync(fd).size !== size) throw new Error(path + ' changed size while it was being hashed');
    const sha256 = whole.digest('hex');
    if (single) chunks[0].sha256 = sha256;
    parentPort.postMessage({ id, size, sha256, chunks, md5: digest ? digest.digest('hex') : undefined });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message || error) });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
});
`;

interface Pending {
  resolve: (hashes: FileHashes) => void;
  reject: (error: Error) => void;
}

type Answer = (FileHashes & { id: number; error?: undefined }) | { id: number; error: string };

/** Worker threads that hash files; `close()` ends them. */
export class HashPool {
  readonly #size: number;
  readonly #workers: Worker[] = [];
  readonly #idle: Worker[] = [];
  readonly #queue: { id: number; message: object }[] = [];
  readonly #pending = new Map<number, Pending>();
  /** The job each busy worker is on. */
  readonly #running = new Map<Worker, number>();
  #nextId = 1;
  #closed = false;

  /** `size` workers (default: the cores there are, at most 4). */
  constructor(size = Math.max(1, Math.min(4, availableParallelism()))) {
    this.#size = size;
  }

  /** Hashes the file at `path` in one read. */
  hash(path: string, request: HashRequest): Promise<FileHashes> {
    if (this.#closed) return Promise.reject(new Error('HashPool is closed'));
    const id = this.#nextId++;
    const chunkBytes = Math.max(1, Math.floor(request.chunkBytes));
    const promise = new Promise<FileHashes>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    this.#queue.push({ id, message: { id, path, chunkBytes, md5: request.md5 === true } });
    this.#pump();
    return promise;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const workers = this.#workers.splice(0);
    this.#idle.length = 0;
    await Promise.all(workers.map((worker) => worker.terminate()));
    for (const { reject } of this.#pending.values()) reject(new Error('HashPool closed before hashing finished'));
    this.#pending.clear();
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      const worker = this.#idle.pop() ?? this.#spawn();
      if (!worker) return;
      const job = this.#queue.shift() as { id: number; message: object };
      // A busy worker keeps the process alive until it answers; an idle one does not.
      worker.ref();
      this.#running.set(worker, job.id);
      worker.postMessage(job.message);
    }
  }

  #spawn(): Worker | undefined {
    if (this.#workers.length >= this.#size) return undefined;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.on('message', (answer: Answer) => {
      const pending = this.#pending.get(answer.id);
      this.#pending.delete(answer.id);
      this.#running.delete(worker);
      worker.unref();
      this.#idle.push(worker);
      if (pending) {
        if (answer.error !== undefined) pending.reject(new LarderError('BadRequest', answer.error));
        else
          pending.resolve({
            size: answer.size,
            sha256: answer.sha256,
            chunks: answer.chunks,
            ...(answer.md5 ? { md5: answer.md5 } : {}),
          });
      }
      this.#pump();
    });
    // A worker that dies fails its own job only; a fresh one takes the queue on.
    const lost = (error: Error) => {
      const id = this.#running.get(worker);
      this.#running.delete(worker);
      this.#workers.splice(this.#workers.indexOf(worker), 1);
      const idle = this.#idle.indexOf(worker);
      if (idle >= 0) this.#idle.splice(idle, 1);
      if (id !== undefined) {
        this.#pending.get(id)?.reject(error);
        this.#pending.delete(id);
      }
      if (!this.#closed) this.#pump();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => {
      if (this.#workers.includes(worker)) lost(new Error(`A hashing worker stopped (exit code ${code})`));
    });
    this.#workers.push(worker);
    return worker;
  }
}
