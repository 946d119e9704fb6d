/**
 * Copies the main connection's WAL back into the database file from a connection of its own
 * in a worker thread, so that no commit on the main thread waits for a checkpoint. Copying
 * 10,000 pages and syncing the file stalled the event loop 150-190 ms inside one `COMMIT`
 * during bulk writes, with every request behind it waiting; with this, the longest write of
 * the same load took ~20 ms (3 Dec).
 *
 * - The main connection asks SQLite after each write how many WAL frames are not yet copied
 *   (`wal_checkpoint(NOOP)`, about 2 µs); past `pages` the worker runs a PASSIVE checkpoint,
 *   which never blocks the writer.
 * - SQLite starts the WAL over only when a write begins with every frame copied. Writes go on
 *   during the worker's pass, so passes repeat while they make progress; once the rest is at
 *   most an eighth of `pages`, the main connection copies it itself between two transactions
 *   (what was written during the last pass, not the whole WAL), and the next write starts the
 *   WAL over.
 * - After `idleMs` without a write, the worker copies whatever is left: readers then read
 *   recently written pages from the (mapped) database file instead of from the WAL.
 * - The writer's own `wal_autocheckpoint` is set to `hardPages`: should the worker fall
 *   behind or stop, the WAL still cannot grow past it.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

export interface WalCheckpointerOptions {
  /** Frames not yet copied after which the worker checkpoints. */
  pages: number;
  /** Frames after which the writer checkpoints inside its commit, as SQLite does by default. */
  hardPages: number;
  /** A store that has not written for this long has its whole WAL copied back. */
  idleMs: number;
}

export interface WalCheckpointProgress {
  passes: number;
  catchUps: number;
  running: boolean;
}

/**
 * The most frames the main connection copies itself to let the WAL start over, as a share of
 * `pages`: about what a busy store writes during one pass of the worker.
 */
const CATCH_UP_SHARE = 1 / 8;

/** The worker's whole program: a connection of its own that only checkpoints. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)').raw();
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [busy, log, checkpointed] = checkpoint.get();
    parentPort.postMessage({ busy, log, checkpointed });
  } catch (error) {
    parentPort.postMessage({ error: error.message });
  }
});
`;

export class SqliteWalCheckpointer {
  private readonly worker: Worker;
  private readonly uncopiedFrames: Database.Statement<[], [number, number, number]>;
  private readonly idle: NodeJS.Timeout;
  /** A pass is in flight in the worker. */
  private running = false;
  /** The worker stopped (an error, or `close`): the writer's own checkpoints take over. */
  private stopped = false;
  /** Frames copied when the pass in flight started, to tell whether it made progress. */
  private copiedBefore = 0;
  /** How many passes the worker ran, and how many times the main connection copied the rest. */
  private readonly counts = { passes: 0, catchUps: 0 };

  constructor(
    private readonly db: Database.Database,
    file: string,
    private readonly options: WalCheckpointerOptions,
  ) {
    db.pragma(`wal_autocheckpoint = ${Math.max(1, Math.round(options.hardPages))}`);
    this.uncopiedFrames = db.prepare<[], [number, number, number]>('PRAGMA wal_checkpoint(NOOP)').raw();
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver } });
    this.worker.unref();
    this.worker.on('message', (answer: { log?: number; checkpointed?: number; error?: string }) =>
      this.passDone(answer),
    );
    this.worker.on('error', () => this.stop());
    this.worker.on('exit', () => this.stop());
    this.idle = setTimeout(() => this.whenIdle(), options.idleMs);
    this.idle.unref();
  }

  /** Passes run by the worker, rests copied by the main connection, and whether a pass is in flight. */
  get progress(): WalCheckpointProgress {
    return { ...this.counts, running: this.running };
  }

  /** Called after each write transaction of the main connection. */
  wrote(): void {
    if (this.stopped) return;
    this.idle.refresh();
    if (!this.running && this.uncopied() >= this.options.pages) this.startPass();
  }

  /** Stops the worker; the caller then checkpoints as it closes. */
  async close(): Promise<void> {
    clearTimeout(this.idle);
    if (this.stopped) return;
    this.stopped = true;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    // Held until it has exited: unreferenced, a process with nothing else left to do would end
    // while its close is awaited, before the store's own close (and the caller's) had run.
    this.worker.ref();
    this.worker.postMessage('close');
    await exited;
  }

  /** WAL frames not yet copied into the database file ([busy, log, checkpointed]). */
  private frames(): [log: number, checkpointed: number] {
    try {
      const [, log, checkpointed] = this.uncopiedFrames.get() as [number, number, number];
      return [log, checkpointed];
    } catch {
      return [0, 0];
    }
  }

  private uncopied(): number {
    const [log, checkpointed] = this.frames();
    return log - checkpointed;
  }

  private startPass(): void {
    this.running = true;
    this.copiedBefore = this.frames()[1];
    this.counts.passes += 1;
    this.worker.postMessage('checkpoint');
  }

  private passDone(answer: { log?: number; checkpointed?: number; error?: string }): void {
    this.running = false;
    if (this.stopped || answer.error !== undefined) return;
    const [log, checkpointed] = this.frames();
    const left = log - checkpointed;
    if (left <= 0) return;
    if (left <= Math.max(1, this.options.pages * CATCH_UP_SHARE)) {
      // Between two transactions: the rest is copied now, and the next write starts the WAL over.
      this.counts.catchUps += 1;
      try {
        this.db.pragma('wal_checkpoint(PASSIVE)');
      } catch {
        // Left to the next pass or to the writer's own checkpoint.
      }
      return;
    }
    // Writes went on during the pass. Another one, unless this one copied nothing (a reader's
    // snapshot holds the frames back): then the next write or the idle timer tries again.
    const progressed = (answer.checkpointed ?? 0) > this.copiedBefore || log < this.copiedBefore;
    if (progressed) this.startPass();
  }

  private whenIdle(): void {
    if (this.stopped || this.running) return;
    if (this.uncopied() > 0) this.startPass();
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.running = false;
    clearTimeout(this.idle);
    try {
      // The writer checkpoints inside its commits again, as SQLite does by default.
      this.db.pragma(`wal_autocheckpoint = ${Math.max(1, Math.round(this.options.pages))}`);
    } catch {
      // The connection is closing.
    }
  }
}
