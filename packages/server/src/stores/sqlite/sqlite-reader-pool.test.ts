import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteReaderPool, warmLimitBytes, worthWarming } from './sqlite-reader-pool.js';

const folders: string[] = [];

function fileWithTables(): string {
  const folder = mkdtempSync(join(tmpdir(), 'larder-readers-'));
  folders.push(folder);
  const file = join(folder, 'store.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(`
    CREATE TABLE documents (collection TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (collection, id)) WITHOUT ROWID;
    CREATE TABLE numbers (no INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
    CREATE TABLE "we""ird name" (x);
  `);
  const insert = db.prepare('INSERT INTO documents VALUES (?, ?, ?)');
  db.transaction(() => {
    for (let i = 0; i < 2000; i += 1) insert.run('c', `d${String(i).padStart(5, '0')}`, JSON.stringify({ i }));
  })();
  db.close();
  return file;
}

afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe('SqliteReaderPool', () => {
  it('walks every table of a small file once per reader after the start, one reader at a time, and answers reads meanwhile', async () => {
    const pool = new SqliteReaderPool(fileWithTables(), 2, true);
    try {
      const rows = pool.run<number>('SELECT count(*) FROM documents WHERE collection = ?', ['c'], 'pluck');
      expect(await pool.warmed()).toEqual([
        ['documents', 'numbers', 'we"ird name'],
        ['documents', 'numbers', 'we"ird name'],
      ]);
      expect(await rows).toEqual([2000]);
      expect(await pool.run('SELECT id FROM documents ORDER BY id LIMIT 2', [], 'pluck')).toEqual(['d00000', 'd00001']);
    } finally {
      await pool.close();
    }
  });

  it('starts cold when told not to walk', async () => {
    const pool = new SqliteReaderPool(fileWithTables(), 1, false);
    try {
      expect(await pool.warmed()).toEqual([[]]);
      expect(await pool.run('SELECT count(*) FROM numbers', [], 'pluck')).toEqual([0]);
    } finally {
      await pool.close();
    }
  });

  it('walks only files that fit the limit, which stays within an eighth of memory and 1 GiB', () => {
    const file = fileWithTables();
    expect(worthWarming(file)).toBe(true);
    expect(worthWarming(file, 1024)).toBe(false);
    expect(worthWarming(join(file, 'missing'))).toBe(false);
    expect(warmLimitBytes(4 * 1024 ** 3)).toBe(512 * 1024 ** 2);
    expect(warmLimitBytes(64 * 1024 ** 3)).toBe(1024 ** 3);
  });
});
