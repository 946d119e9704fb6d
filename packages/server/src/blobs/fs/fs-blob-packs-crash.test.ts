/**
 * A store killed at a random moment (SIGKILL: no close, no cleanup) while it commits small
 * blobs, deletes some and merges and compacts packs in the background: every blob it
 * acknowledged reads back whole after a reopen, every delete it acknowledged holds, and the
 * folder takes new writes. The child runs the built store (`npm run build` first), as a server would.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bytesSource, patternBytes, readAll, sha256Of } from '../test-support/byte-sources.js';
import { FsBlobStore } from './fs-blob-store.js';

const BUILT_STORE = fileURLToPath(new URL('../../../dist/blobs/fs/fs-blob-store.js', import.meta.url));

/**
 * Commits forms of 12 small blobs (and now and then one too large to pack) for ever, printing
 * `+ <sha256> <size>` for each blob once its commit is answered, and for one blob of the form
 * two commits back `- <sha256>` before its delete and `x <sha256>` once answered.
 */
const childScript = (root: string, firstSeed: number) => `
  const { Readable } = await import('node:stream');
  const { FsBlobStore } = await import(${JSON.stringify(pathToFileURL(BUILT_STORE).href)});
  const store = new FsBlobStore({ root: ${JSON.stringify(root)} });
  await store.open();
  const body = (seed, size) => {
    const bytes = Buffer.alloc(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
    bytes.writeUInt32LE(seed, 0);
    return bytes;
  };
  const forms = [];
  for (let form = 0; ; form++) {
    const seeds = Array.from({ length: 12 }, (_, file) => ${firstSeed} + form * 13 + file);
    const sizes = seeds.map((seed) => 100 + ((seed * 53) % 3000));
    if (form % 5 === 4) sizes[0] = 300 * 1024;
    const batch = store.batch();
    await Promise.all(seeds.map((seed, at) => batch.add(Readable.from([body(seed, sizes[at])]))));
    const results = await batch.commit();
    process.stdout.write(results.map((result) => '+ ' + result.sha256 + ' ' + result.size + '\\n').join(''));
    forms.push(results);
    const older = forms[form - 2];
    if (older) {
      const hash = older[form % 12].sha256;
      process.stdout.write('- ' + hash + '\\n');
      await store.delete(hash);
      process.stdout.write('x ' + hash + '\\n');
    }
  }`;

interface Acknowledged {
  stored: Map<string, number>;
  deleting: Set<string>;
  deleted: Set<string>;
}

/**
 * Runs the child until it has acknowledged `forms` commits, then kills it after a random few
 * milliseconds more, so that the kill lands inside a commit, a delete or a rewrite.
 */
async function runAndKill(root: string, firstSeed: number, forms: number, seen: Acknowledged): Promise<void> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', childScript(root, firstSeed)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_, signal) => resolve(signal)));
  let pending = '';
  let acknowledged = 0;
  let killing = false;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const [kind, hash, size] = line.split(' ') as [string, string, string | undefined];
      if (kind === '+') seen.stored.set(hash, Number(size));
      else if (kind === '-') seen.deleting.add(hash);
      else if (kind === 'x') seen.deleted.add(hash);
      if (kind === '+') acknowledged += 1;
    }
    if (acknowledged >= forms * 12 && !killing) {
      killing = true;
      setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 15));
    }
  });
  // Killed by the test, not dead of an error of its own.
  expect(await exited).toBe('SIGKILL');
}

describe('FsBlobStore packs: a process killed mid-write', () => {
  let root: string;
  const stores: FsBlobStore[] = [];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'larder-pack-crash-'));
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await rm(root, { recursive: true, force: true });
  });

  async function expectAcknowledged(store: FsBlobStore, seen: Acknowledged): Promise<void> {
    for (const [hash, size] of seen.stored) {
      if (seen.deleting.has(hash)) continue;
      const read = await readAll(await store.get(hash));
      expect(read.length).toBe(size);
      expect(sha256Of(read)).toBe(hash);
    }
    for (const hash of seen.deleted) expect(await store.stat(hash)).toBeUndefined();
  }

  it('keeps every acknowledged blob and delete across kills, and takes new writes after', async () => {
    if (!existsSync(BUILT_STORE)) throw new Error(`${BUILT_STORE} is missing: run "npm run build" first.`);
    const seen: Acknowledged = { stored: new Map(), deleting: new Set(), deleted: new Set() };
    for (let round = 0; round < 3; round++) {
      // Past 16 commits a merge of small packs starts: some kills land inside one.
      await runAndKill(root, round * 1_000_000, 14 + Math.floor(Math.random() * 10), seen);
      const store = new FsBlobStore({ root });
      stores.push(store);
      await store.open();
      await expectAcknowledged(store, seen);
      // What the kill left does not stand in the way of new packs.
      const more = Array.from({ length: 12 }, (_, file) => patternBytes(200 + file, 9_000_000 + round * 100 + file));
      const batch = store.batch();
      await Promise.all(more.map((bytes) => batch.add(bytesSource(bytes))));
      const results = await batch.commit();
      for (const [at, result] of results.entries()) seen.stored.set(result.sha256, (more[at] as Buffer).length);
      await expectAcknowledged(store, seen);
      await store.close();
      stores.splice(stores.indexOf(store), 1);
    }
    expect(seen.stored.size).toBeGreaterThan(3 * 12 * 14);
    // Nothing but packs, the index and its lock (a kill's young leftover pack is kept ten minutes).
    const names = await readdir(join(root, 'packs'));
    expect(names.filter((name) => !/^(\d+\.pack|index\.db(-wal|-shm)?|index\.lock(-journal)?)$/.test(name))).toEqual(
      [],
    );
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });
});
