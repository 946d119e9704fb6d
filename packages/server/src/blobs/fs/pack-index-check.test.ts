/** What counts as a damaged index: SQLite's verdicts on the file, never a lock or a disk error. */
import { describe, expect, it } from 'vitest';
import { isIndexDamage } from './pack-index-check.js';

const sqliteError = (code: string) => Object.assign(new Error(code), { code });

describe('isIndexDamage', () => {
  it.each(['SQLITE_CORRUPT', 'SQLITE_CORRUPT_INDEX', 'SQLITE_NOTADB'])('takes %s for damage', (code) => {
    expect(isIndexDamage(sqliteError(code))).toBe(true);
  });

  it.each(['SQLITE_BUSY', 'SQLITE_BUSY_RECOVERY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_FULL', 'EACCES'])(
    'does not take %s for damage',
    (code) => {
      expect(isIndexDamage(sqliteError(code))).toBe(false);
    },
  );
});
