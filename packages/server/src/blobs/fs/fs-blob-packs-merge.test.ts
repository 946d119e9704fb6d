/**
 * Small packs merged: a folder fed many small forms (a pack per commit) ends with a few packs,
 * every blob still whole, and reads running across the merges (in this store and in another
 * sharing the folder) answer the right bytes.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bytesSource, collect, patternBytes, readAll, sha256Of } from '../test-support/byte-sources.js';
import { FsBlobStore } from './fs-blob-store.js';

const packsOf = async (root: string) =>
  (await readdir(join(root, 'packs')).catch(() => [] as string[])).filter((name) => name.endsWith('.pack')).sort();

/** `forms` commits of `files` small blobs each, all different. */
const formsOf = (forms: number, files: number, from = 0) =>
  Array.from({ length: forms }, (_, form) =>
    Array.from({ length: files }, (_, file) => {
      const seed = (from + form) * 1000 + file;
      return patternBytes(100 + ((seed * 53) % 3000), seed);
    }),
  );

describe('FsBlobStore packs: merging small packs', () => {
  let root: string;
  const stores: FsBlobStore[] = [];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'larder-pack-merge-'));
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await rm(root, { recursive: true, force: true });
  });

  async function openStore(): Promise<FsBlobStore> {
    const store = new FsBlobStore({ root });
    stores.push(store);
    await store.open();
    return store;
  }

  async function commitForm(store: FsBlobStore, bodies: readonly Buffer[]): Promise<void> {
    const batch = store.batch();
    await Promise.all(bodies.map((bytes) => batch.add(bytesSource(bytes))));
    await batch.commit();
  }

  async function expectWhole(store: FsBlobStore, bodies: readonly Buffer[]): Promise<void> {
    for (const bytes of bodies) expect((await readAll(await store.get(sha256Of(bytes)))).equals(bytes)).toBe(true);
  }

  it('merges the packs of many small commits into a few, every blob whole, across a reopen', async () => {
    const store = await openStore();
    const forms = formsOf(60, 12);
    for (const form of forms) await commitForm(store, form);
    await store.compacted();
    const bodies = forms.flat();
    const packs = await packsOf(root);
    expect(packs.length).toBeLessThan(16);
    await expectWhole(store, bodies);
    expect(await collect(store.list())).toEqual(bodies.map(sha256Of).sort());
    await store.close();
    const reopened = await openStore();
    await expectWhole(reopened, bodies);
    expect(await packsOf(root)).toEqual(packs);
  });

  it('keeps reads right across a merge: streams opened before it, reads during it, another store’s reads', async () => {
    const store = await openStore();
    const neighbour = await openStore();
    // One commit short of a merge.
    const forms = formsOf(15, 10);
    for (const form of forms) await commitForm(store, form);
    await store.compacted();
    expect(await packsOf(root)).toHaveLength(15);
    const bodies = forms.flat();
    // The other store reads every blob first, so it holds descriptors of the packs about to go.
    await expectWhole(neighbour, bodies);
    const opened = await Promise.all(bodies.map((bytes) => store.get(sha256Of(bytes))));

    const last = formsOf(1, 10, 15).flat();
    const dropped = new Set(bodies.filter((_, at) => at % 7 === 0).map(sha256Of));
    await Promise.all([
      commitForm(store, last),
      ...bodies.map(async (bytes) => {
        const hash = sha256Of(bytes);
        if (dropped.has(hash)) expect(await store.delete(hash)).toBe(true);
        else expect((await readAll(await store.get(hash))).equals(bytes)).toBe(true);
      }),
      store.compacted(),
    ]);
    await store.compacted();
    const packs = await packsOf(root);
    expect(packs.length).toBeLessThan(3);
    for (const [at, stream] of opened.entries())
      expect((await readAll(stream)).equals(bodies[at] as Buffer)).toBe(true);
    const live = [...bodies.filter((bytes) => !dropped.has(sha256Of(bytes))), ...last];
    await expectWhole(store, live);
    await expectWhole(neighbour, live);
    for (const hash of dropped) expect(await neighbour.stat(hash)).toBeUndefined();
    expect(await collect(neighbour.list())).toEqual(live.map(sha256Of).sort());
  });
});
