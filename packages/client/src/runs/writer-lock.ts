/**
 * `writer.json` marks a run directory as being written by a live process: it names the
 * process id and host. `finish()` removes it. A run whose status is still `Running` but whose
 * writer is gone was interrupted (killed, crashed, or exited without `finish()`).
 */
import { rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isObject, readJsonFile, writeJsonFileSync } from './local-json-file.js';

export const WRITER_FILE = 'writer.json';

export interface WriterLock {
  pid: number;
  hostname: string;
  startedAt: string;
}

/** What can be said about a run directory's writer. */
export type WriterState = 'alive' | 'dead' | 'none' | 'unknown';

export function acquireWriterLock(directory: string): WriterLock {
  const lock: WriterLock = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() };
  writeJsonFileSync(join(directory, WRITER_FILE), lock);
  return lock;
}

export function releaseWriterLock(directory: string): void {
  rmSync(join(directory, WRITER_FILE), { force: true });
}

/**
 * `alive` when the named process runs on this host, `dead` when it does not, `none` without
 * a lock, `unknown` when the lock names another host (a shared disk): that process cannot be
 * checked from here.
 */
export async function writerState(directory: string): Promise<WriterState> {
  const lock = await readJsonFile(join(directory, WRITER_FILE));
  if (!isObject(lock) || typeof lock.pid !== 'number') return 'none';
  if (lock.hostname !== hostname()) return 'unknown';
  return isProcessAlive(lock.pid) ? 'alive' : 'dead';
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as { code?: unknown }).code === 'EPERM';
  }
}
