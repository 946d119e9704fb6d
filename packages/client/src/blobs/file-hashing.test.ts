import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HashPool } from './file-hashing.js';

const digest = (algorithm: string, bytes: Uint8Array) => createHash(algorithm).update(bytes).digest('hex');

describe('HashPool', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'larder-hash-pool-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('computes the whole SHA-256, each chunk and the MD5 in one pass, for several files at once', async () => {
    // Several chunks; one chunk exactly; less than one; nothing.
    const contents = [
      randomBytes(5 * 1024 * 1024 + 17),
      randomBytes(2 * 1024 * 1024),
      randomBytes(1000),
      Buffer.alloc(0),
    ];
    const paths = await Promise.all(
      contents.map(async (bytes, index) => {
        const path = join(dir, `file-${index}.bin`);
        await writeFile(path, bytes);
        return path;
      }),
    );
    const pool = new HashPool(2);
    try {
      const chunkBytes = 2 * 1024 * 1024;
      const results = await Promise.all(paths.map((path) => pool.hash(path, { chunkBytes, md5: true })));
      results.forEach((result, index) => {
        const bytes = contents[index] as Buffer;
        expect(result.size).toBe(bytes.length);
        expect(result.sha256).toBe(digest('sha256', bytes));
        expect(result.md5).toBe(digest('md5', bytes));
        const expected = [];
        for (let start = 0; start < bytes.length || expected.length === 0; start += chunkBytes) {
          const end = Math.min(start + chunkBytes, bytes.length);
          expected.push({ start, end, sha256: digest('sha256', bytes.subarray(start, end)) });
          if (end >= bytes.length) break;
        }
        expect(result.chunks).toEqual(expected);
      });
      expect((await pool.hash(paths[2] as string, { chunkBytes })).md5).toBeUndefined();
    } finally {
      await pool.close();
    }
  });

  it('fails a missing file alone, with a clear error, and keeps hashing the others', async () => {
    const path = join(dir, 'present.bin');
    await writeFile(path, 'present');
    const pool = new HashPool(1);
    try {
      const missing = pool.hash(join(dir, 'missing.bin'), { chunkBytes: 1024 });
      await expect(missing).rejects.toMatchObject({ name: 'BadRequest' });
      await expect(missing).rejects.toThrow(/ENOENT|no such file/);
      expect((await pool.hash(path, { chunkBytes: 1024 })).sha256).toBe(digest('sha256', Buffer.from('present')));
    } finally {
      await pool.close();
    }
    await expect(pool.hash(path, { chunkBytes: 1024 })).rejects.toThrow(/closed/);
  });
});
