/**
 * Whether the pack index at open is usable, damaged or missing, and moving a damaged one
 * aside. Only SQLite's own verdicts count as damage (SQLITE_CORRUPT, SQLITE_NOTADB, a failed
 * `quick_check`): a busy or locked index (another server on the folder) or a failing disk is
 * an error to report, not a reason to throw the index away.
 */
import { rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { syncDirectory } from './durable-files.js';
import { errorCode } from './fs-errors.js';
import { type Index, indexOver, openIndexDatabase } from './pack-index.js';

export type IndexCheck =
  | { state: 'usable'; index: Index }
  | { state: 'damaged'; reason: string }
  | { state: 'missing' };

/** Whether SQLite `error` says the database file itself is damaged. */
export function isIndexDamage(error: unknown): boolean {
  const code = errorCode(error) ?? '';
  return code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB');
}

/**
 * Opens the index at `file` and checks it (`quick_check`: every page and index entry read,
 * ~0.4 s a million packed blobs), answering it open when usable. `packsFound` tells an empty
 * file apart: SQLite takes it for a new, empty database, which with packs there would leave
 * every pack unnamed (and removed as a crash's leftover).
 */
export async function checkIndex(file: string, packsFound: boolean): Promise<IndexCheck> {
  const info = await stat(file).catch((error: unknown) => {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  });
  if (info === undefined) return { state: 'missing' };
  if (info.size === 0 && packsFound) return { state: 'damaged', reason: 'the file is empty while packs are there' };
  let db: Database.Database;
  try {
    db = openIndexDatabase(file);
  } catch (error) {
    if (isIndexDamage(error)) return { state: 'damaged', reason: describe(error) };
    throw error;
  }
  try {
    // Before the schema's statements: nothing is written into a file about to be kept as it is.
    const problems = db.pragma('quick_check', { simple: false }) as { quick_check: string }[];
    const reported = problems.map((row) => row.quick_check).filter((line) => line !== 'ok');
    if (reported.length > 0) {
      db.close();
      return { state: 'damaged', reason: `quick_check found ${reported.slice(0, 3).join('; ')}` };
    }
  } catch (error) {
    db.close();
    if (isIndexDamage(error)) return { state: 'damaged', reason: describe(error) };
    throw error;
  }
  try {
    return { state: 'usable', index: indexOver(db, file) };
  } catch (error) {
    if (isIndexDamage(error)) return { state: 'damaged', reason: describe(error) };
    throw error;
  }
}

/**
 * Renames the index `file` and its logs (`-wal`, `-shm`), those present, to
 * `<file>.damaged-<time>` (the logs keeping their suffix, so that the copy opens with them in
 * `sqlite3`), never deleting them, and answers the names moved to. The database goes first: a
 * crash part-way leaves its logs without it, moved aside in turn by the rebuild that follows
 * (a log left behind would be replayed onto the new index).
 */
export async function moveIndexAside(file: string, now = new Date()): Promise<string[]> {
  const aside = `${file}.damaged-${now.toISOString().replace(/[:.]/g, '-')}`;
  const moved: string[] = [];
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      await rename(`${file}${suffix}`, `${aside}${suffix}`);
      moved.push(`${aside}${suffix}`);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
  }
  // Durable before a new index is made under the old name.
  if (moved.length > 0) await syncDirectory(dirname(file));
  return moved;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
