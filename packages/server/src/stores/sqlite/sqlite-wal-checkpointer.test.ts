import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteDocumentStore, type SqliteDocumentStoreOptions } from './sqlite-document-store.js';

/** A WAL frame: its 24-byte header and one page of SQLite's default 4,096 bytes. */
const FRAME_BYTES = 24 + 4096;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function openStore(options: Omit<SqliteDocumentStoreOptions, 'file'>) {
  const dir = await mkdtemp(join(tmpdir(), 'larder-wal-'));
  const file = join(dir, 'larder.db');
  const store = new SqliteDocumentStore({ file, readers: 0, ...options });
  await store.open();
  // Another connection to the same file, that only asks how far the WAL is copied back.
  const observer = new Database(file);
  cleanups.push(async () => {
    observer.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const frames = () => {
    const [row] = observer.pragma('wal_checkpoint(NOOP)') as { log: number; checkpointed: number }[];
    return { log: row?.log ?? -1, checkpointed: row?.checkpointed ?? -1 };
  };
  return { store, file, frames };
}

/** `count` random-key rows of about 1 KB: each lands on a page of its own, as a lake's hashes do. */
function rows(batch: number, count: number) {
  const body = 'x'.repeat(1000);
  return Array.from({ length: count }, (_, i) => ({ _id: `${(batch * 7919 + i * 104_729) % 100_003}`, body }));
}

describe('sqlite: the WAL copied back on a worker thread', () => {
  it('copies the whole WAL back once the store is idle, and the next write starts it over', async () => {
    // The threshold is far away: only the idle timer can copy these frames back.
    const { store, frames } = await openStore({ walCheckpointPages: 100_000, walIdleCheckpointMs: 20 });
    for (let batch = 0; batch < 5; batch += 1) await store.insert('rows', rows(batch, 100));
    const written = frames();
    expect(written.log).toBeGreaterThan(100);
    await vi.waitFor(() => expect(frames().checkpointed).toBe(written.log), { timeout: 10_000 });
    expect(store.walCheckpoints.passes).toBeGreaterThanOrEqual(1);
    // Fully copied, the WAL is started over by the next write instead of growing.
    await store.insert('rows', rows(99, 1));
    expect(frames().log).toBeLessThan(written.log);
    expect(await store.count('rows', { op: 'all' })).toBe(501);
  });

  it('keeps the WAL short under steady writes without the writer checkpointing inside its commits', async () => {
    const pages = 50;
    const { store, file, frames } = await openStore({ walCheckpointPages: pages, walIdleCheckpointMs: 600_000 });
    let longest = 0;
    for (let batch = 0; batch < 30; batch += 1) {
      await store.insert('rows', rows(batch, 20));
      longest = Math.max(longest, frames().log);
      // The event loop turns, as a server's does between requests: the worker's answers arrive.
      await vi.waitFor(() => expect(store.walCheckpoints.running).toBe(false), { timeout: 10_000 });
    }
    const progress = store.walCheckpoints;
    expect(progress.passes).toBeGreaterThanOrEqual(3);
    // The writer's own checkpoint waits for four times `pages`: the WAL never got near it.
    expect(longest).toBeLessThan(pages * 3);
    expect((await stat(`${file}-wal`)).size).toBeLessThan(pages * 3 * FRAME_BYTES);
    expect(await store.count('rows', { op: 'all' })).toBe(600);
  });

  it('finishes its close in a process with nothing else left to do', async () => {
    // The built store (npm test builds first), in a process of its own: the checkpointer's
    // thread must keep that process alive until the store has closed, WAL truncated.
    const built = fileURLToPath(new URL('../../../dist/stores/sqlite/sqlite-document-store.js', import.meta.url));
    const dir = await mkdtemp(join(tmpdir(), 'larder-wal-close-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'larder.db');
    const script = `
      const { SqliteDocumentStore } = await import(${JSON.stringify(pathToFileURL(built).href)});
      const store = new SqliteDocumentStore({ file: ${JSON.stringify(file)} });
      await store.open();
      await store.insert('rows', [{ _id: 'a', body: 'x'.repeat(5000) }]);
      await store.close();
      console.log('closed');`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
    expect(stdout.trim()).toBe('closed');
    expect((await stat(`${file}-wal`).catch(() => undefined))?.size ?? 0).toBe(0);
  });
});
