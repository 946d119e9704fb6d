/**
 * Which stores have a folder's pack index open, told by SQLite's own file locks on a database
 * kept for nothing else, `packs/index.lock`: every store holds a shared lock on it while it is
 * open, and a store moves a damaged index aside or rebuilds a lost one only under the
 * exclusive lock, so never under another store still using the index, in this process or in
 * another server sharing the folder. The locks are the kernel's: a killed process's go with it.
 *
 * @example
 * const lock = PackIndexLock.open(packsDirectory(root));
 * if (lock.tryExclusive()) {
 *   try { await rebuild(); } finally { lock.share(); }
 * }
 * lock.close();
 */
import { join } from 'node:path';
import { LarderError } from '@larder/protocol';
import Database from 'better-sqlite3';
import { errorCode } from './fs-errors.js';

/** How long a store waits for a repair under way elsewhere before giving up its open. */
const SHARED_WAIT_MS = 5000;
/** Long enough for another store's open to end its first check; a store that is open holds on. */
const EXCLUSIVE_WAIT_MS = 250;

export class PackIndexLock {
  private constructor(
    private readonly db: Database.Database,
    private readonly file: string,
  ) {}

  /** Opens the lock of the packs `directory`, held shared. */
  static open(directory: string): PackIndexLock {
    const file = join(directory, 'index.lock');
    const lock = new PackIndexLock(new Database(file), file);
    try {
      lock.holdShared();
    } catch (error) {
      lock.close();
      throw error;
    }
    return lock;
  }

  /**
   * Takes the lock exclusive, answering false (the lock shared again) when another store holds
   * it. Until `share()`, no other store opens the index.
   */
  tryExclusive(): boolean {
    this.db.exec('COMMIT');
    this.db.pragma(`busy_timeout = ${EXCLUSIVE_WAIT_MS}`);
    try {
      this.db.exec('BEGIN EXCLUSIVE');
      return true;
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      if (errorCode(error) !== 'SQLITE_BUSY') throw error;
      this.holdShared();
      return false;
    }
  }

  /** Back from exclusive to shared. */
  share(): void {
    this.db.exec('COMMIT');
    this.holdShared();
  }

  close(): void {
    // Closing ends the open transaction, and with it the lock.
    this.db.close();
  }

  /** A read transaction, left open: SQLite keeps a shared lock on the file until it ends. */
  private holdShared(): void {
    this.db.pragma(`busy_timeout = ${SHARED_WAIT_MS}`);
    this.db.exec('BEGIN');
    try {
      this.db.prepare('SELECT count(*) FROM sqlite_master').get();
    } catch (error) {
      this.db.exec('ROLLBACK');
      if (errorCode(error) !== 'SQLITE_BUSY') throw error;
      throw new LarderError(
        'Unavailable',
        `Another Larder store has held ${this.file} for over ${SHARED_WAIT_MS / 1000} s, repairing or rebuilding ` +
          'the pack index of this folder: start this one again once that one has opened.',
        { cause: error },
      );
    }
  }
}
