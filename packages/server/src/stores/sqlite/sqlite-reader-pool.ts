/**
 * Read-only SQLite connections in worker threads. WAL mode lets them read while the main
 * connection writes, so a paginated find runs its page query and its count at the same
 * time on two cores, and long scans never block the event loop (sockets, uploads, other
 * requests go on). Workers only execute SQL; compiling queries stays on the main thread.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { LarderError } from '@larder/protocol';

/** How a read answers: every row as an object (`all`) or as an array of its columns (`raw`), every row's first column (`pluck`), the first row (`get`). */
export type ReadMode = 'all' | 'raw' | 'pluck' | 'get';

/**
 * For a `raw` read: the rows, from `from` to `to - 1`, whose second column is kept; the
 * others' is answered as null, so that a listing's sorted ids come with only its page's
 * documents across threads.
 */
export type KeptRows = readonly [from: number, to: number];

/**
 * Nulls the second column of the rows outside `kept`. The reader threads run this same
 * function (its source is part of their program), so both sides of a read agree.
 */
export function keepSecondColumn(rows: unknown[][], kept: KeptRows | undefined): unknown[][] {
  if (!kept) return rows;
  for (let at = 0; at < rows.length; at += 1) {
    const row = rows[at] as unknown[];
    if (at < kept[0] || at >= kept[1]) row[1] = null;
  }
  return rows;
}

interface Job {
  resolve: (rows: unknown) => void;
  reject: (error: Error) => void;
}

/**
 * Pages each connection keeps (negative: KiB): 32 MiB, so that the postings of a few tags and
 * the documents they name stay in memory across queries, instead of SQLite's 2 MiB.
 */
export const CACHE_SIZE_PRAGMA = -32_768;

/**
 * How much of the file each reader maps into memory (bytes of address space, not of RAM):
 * reads of a mapped page come straight from the operating system's page cache, shared by
 * every connection, instead of being copied into each connection's own cache first. A reader
 * thread that has not yet read a part of the file then pays no copy for it, which is most of
 * the cost of the first queries after a start. Readers never write, so a mapped page is
 * never written through the mapping. SQLite caps it at its build's limit (2 GiB for the
 * driver's); past that, reads go through the connection's cache as before.
 */
export const MMAP_SIZE_BYTES = 2 * 1024 ** 3;

/** The worker's whole program: open the file read-only, run statements, answer rows. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('cache_size = ${CACHE_SIZE_PRAGMA}');
db.pragma('mmap_size = ${MMAP_SIZE_BYTES}');
const statements = new Map();
const keepSecondColumn = ${keepSecondColumn.toString()};
parentPort.on('message', ({ id, sql, params, mode, kept }) => {
  try {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
      if (statements.size > 500) statements.delete(statements.keys().next().value);
    }
    if (mode === 'raw') statement.raw(true);
    else statement.raw(false).pluck(mode === 'pluck');
    const rows = mode === 'get' ? statement.get(...params) : statement.all(...params);
    // Only the kept rows' second column crosses to the main thread.
    parentPort.postMessage({ id, rows: mode === 'raw' ? keepSecondColumn(rows, kept) : rows });
  } catch (error) {
    parentPort.postMessage({ id, error: { message: error.message, code: error.code } });
  }
});
`;

class ReaderThread {
  private readonly worker: Worker;
  private readonly jobs = new Map<number, Job>();
  private nextId = 0;

  constructor(file: string, driver: string) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver } });
    this.worker.unref();
    this.worker.on('message', (message: { id: number; rows?: unknown; error?: { message: string; code?: string } }) => {
      const job = this.jobs.get(message.id);
      if (!job) return;
      this.jobs.delete(message.id);
      if (message.error) {
        job.reject(new LarderError('GeneralError', 'The metadata store failed', { cause: message.error }));
      } else job.resolve(message.rows);
    });
    this.worker.on('error', (error) => this.failAll(error));
    this.worker.on('exit', () => this.failAll(new Error('reader thread exited')));
  }

  get load(): number {
    return this.jobs.size;
  }

  run(sql: string, params: unknown[], mode: ReadMode, kept?: KeptRows): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { resolve, reject });
      this.worker.postMessage({ id, sql, params, mode, kept });
    });
  }

  private failAll(error: Error): void {
    for (const job of this.jobs.values()) {
      job.reject(new LarderError('Unavailable', 'A metadata store reader stopped', { cause: error }));
    }
    this.jobs.clear();
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

export class SqliteReaderPool {
  private readonly threads: ReaderThread[];

  constructor(file: string, size: number) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.threads = Array.from({ length: size }, () => new ReaderThread(file, driver));
  }

  /** Runs a read on the least busy thread. */
  run<T>(sql: string, params: unknown[], mode: ReadMode, kept?: KeptRows): Promise<T> {
    let best = this.threads[0] as ReaderThread;
    for (const thread of this.threads) if (thread.load < best.load) best = thread;
    return best.run(sql, params, mode, kept) as Promise<T>;
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.close()));
  }
}
