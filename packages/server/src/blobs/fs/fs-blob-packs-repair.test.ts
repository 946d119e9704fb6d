/**
 * A pack index that is there but damaged: the store still opens, the damaged files are kept
 * aside and the index is rebuilt from the packs, unless another store has the folder open (or
 * the index is merely locked), when nothing is touched.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bytesSource, collect, patternBytes, readAll, sha256Of } from '../test-support/byte-sources.js';
import { FsBlobStore } from './fs-blob-store.js';

type Damage = (file: string) => Promise<void>;

/** SQLite's page size, from the database header. */
const pageSizeOf = (bytes: Buffer) => {
  const raw = bytes.readUInt16BE(16);
  return raw === 1 ? 65_536 : raw;
};

const damages: [string, Damage][] = [
  ['overwritten with garbage', (file) => writeFile(file, patternBytes(20_000, 3))],
  ['truncated to half', async (file) => truncate(file, Math.floor((await readFile(file)).length / 2))],
  [
    'a page in the middle zeroed',
    async (file) => {
      const bytes = await readFile(file);
      const pageSize = pageSizeOf(bytes);
      const middle = Math.floor(bytes.length / pageSize / 2) * pageSize;
      bytes.fill(0, middle, middle + pageSize);
      await writeFile(file, bytes);
    },
  ],
  // SQLite takes an empty file for a new, empty database: with packs there it is a damaged index.
  ['emptied', (file) => truncate(file, 0)],
];

describe('FsBlobStore packs: a damaged index', () => {
  let root: string;
  let warnings: string[];
  const stores: FsBlobStore[] = [];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'larder-pack-repair-'));
    warnings = [];
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await rm(root, { recursive: true, force: true });
  });

  const indexFile = () => join(root, 'packs', 'index.db');
  const damagedCopies = async () =>
    (await readdir(join(root, 'packs'))).filter((name) => name.startsWith('index.db.damaged-')).sort();

  async function openStore(): Promise<FsBlobStore> {
    const store = new FsBlobStore({ root, onWarning: (message) => warnings.push(message) });
    stores.push(store);
    await store.open();
    return store;
  }

  async function closeStore(store: FsBlobStore): Promise<void> {
    await store.close();
    stores.splice(stores.indexOf(store), 1);
  }

  /** A thousand small blobs over ten commits: an index of some dozens of pages. */
  async function storeBodies(store: FsBlobStore): Promise<Buffer[]> {
    const bodies = Array.from({ length: 1000 }, (_, seed) => patternBytes(40 + ((seed * 37) % 400), seed));
    for (let start = 0; start < bodies.length; start += 100) {
      const batch = store.batch();
      await Promise.all(bodies.slice(start, start + 100).map((bytes) => batch.add(bytesSource(bytes))));
      await batch.commit();
    }
    return bodies;
  }

  async function expectWhole(store: FsBlobStore, bodies: readonly Buffer[]): Promise<void> {
    for (const bytes of bodies) expect((await readAll(await store.get(sha256Of(bytes)))).equals(bytes)).toBe(true);
  }

  it.each(damages)('opens with an index %s: every blob whole, the damaged copy kept', async (_, damage) => {
    const first = await openStore();
    const bodies = await storeBodies(first);
    await closeStore(first);
    await damage(indexFile());
    const damaged = await readFile(indexFile());

    const reopened = await openStore();
    await expectWhole(reopened, bodies);
    expect(await collect(reopened.list())).toEqual(bodies.map(sha256Of).sort());
    const [copy, ...more] = await damagedCopies();
    expect(more).toEqual([]);
    expect((await readFile(join(root, 'packs', copy as string))).equals(damaged)).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('damaged');
    expect(warnings[0]).toContain(copy);

    // The rebuilt index is an ordinary one: written to, and opened again without a repair.
    const later = patternBytes(5000, 9999);
    const batch = reopened.batch();
    await batch.add(bytesSource(later));
    await batch.commit();
    await closeStore(reopened);
    const again = await openStore();
    await expectWhole(again, [...bodies, later]);
    expect(await damagedCopies()).toEqual([copy]);
    expect(warnings).toHaveLength(1);
  });

  it('leaves a damaged index alone while another store has it open, and repairs it once that one closes', async () => {
    const first = await openStore();
    const bodies = await storeBodies(first);
    await closeStore(first);
    const holder = await openStore();
    await (damages[2] as [string, Damage])[1](indexFile());
    const damaged = await readFile(indexFile());

    const second = new FsBlobStore({ root, onWarning: (message) => warnings.push(message) });
    await expect(second.open()).rejects.toMatchObject({
      name: 'Unavailable',
      message: expect.stringContaining('another'),
    });
    expect(await damagedCopies()).toEqual([]);
    expect((await readFile(indexFile())).equals(damaged)).toBe(true);
    expect(warnings).toEqual([]);

    await closeStore(holder);
    const repaired = await openStore();
    await expectWhole(repaired, bodies);
    expect(await damagedCopies()).toHaveLength(1);
  });

  it('waits for an index another process holds locked instead of taking it for damaged', async () => {
    const first = await openStore();
    const bodies = await storeBodies(first);
    await closeStore(first);
    // A connection in exclusive locking mode answers SQLITE_BUSY to every other one until it closes.
    const script = `
      const { default: Database } = await import('better-sqlite3');
      const db = new Database(${JSON.stringify(indexFile())});
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE');
      console.log('locked');
      setTimeout(() => { db.exec('COMMIT'); db.close(); }, 300);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      // Where better-sqlite3 resolves from.
      cwd: fileURLToPath(new URL('.', import.meta.url)),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    await new Promise((resolve) => child.stdout.once('data', resolve));
    const reopened = await openStore();
    expect(await exited).toBe(0);
    await expectWhole(reopened, bodies);
    expect(await damagedCopies()).toEqual([]);
    expect(warnings).toEqual([]);
  });
});
