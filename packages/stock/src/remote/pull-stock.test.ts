import { describe, expect, it } from 'vitest';
import { scanPack } from '../packs/pack-format.js';
import type { StockRoom } from '../stock-room.js';
import { tensor, tensorValues } from '../tensor/tensor.js';
import { newStock, objectCount } from '../test-support/new-stock.js';
import { pullStock } from './pull-stock.js';
import { pushStock } from './push-stock.js';
import type { RemoteRepository, StockRemote } from './stock-remote.js';

/** A server held in memory: one repository backed by a local stock room's object store. */
function memoryRemote(server: StockRoom, options: { damage?: string; uncreated?: boolean } = {}) {
  const repository: RemoteRepository = { _id: 'r1', name: 'shared', refs: {} };
  const uploads: string[] = [];
  // An uncreated repository is found only once a push has created it.
  let exists = options.uncreated !== true;
  const remote: StockRemote = {
    location: 'memory',
    findRepository: async (name) => (exists && name === repository.name ? repository : undefined),
    createRepository: async () => {
      exists = true;
      return repository;
    },
    missingObjects: async (_repo, ids) => {
      const missing: string[] = [];
      for (const id of ids) if (!(await server.objects.has(id))) missing.push(id);
      return missing;
    },
    missingPacked: async (_repo, ids) => {
      const missing: string[] = [];
      for (const id of ids) if (!(await server.objects.has(id))) missing.push(id);
      return missing;
    },
    // This server keeps what a pack holds as loose objects, and so never offers packs.
    uploadPack: async (_repo, path) => {
      const { readFile } = await import('node:fs/promises');
      const entries = scanPack(await readFile(path), path);
      const bytes = await readFile(path);
      for (const [id, { offset, length }] of entries) {
        uploads.push(id);
        await server.objects.writeRaw(id, bytes.subarray(offset, offset + length));
      }
      return { pack: 'p', objects: entries.size, bytes: bytes.length };
    },
    locatePacks: async () => [],
    downloadPack: async () => {
      throw new Error('no packs here');
    },
    uploadObject: async (id, path) => {
      uploads.push(id);
      const { readFile } = await import('node:fs/promises');
      await server.objects.writeRaw(id, await readFile(path));
    },
    downloadObject: async (_repo, id) => {
      const bytes = new Uint8Array(await server.objects.readRaw(id));
      if (id === options.damage) bytes[bytes.length - 1] = (bytes.at(-1) as number) ^ 1;
      return bytes;
    },
    moveRef: async (_repo, ref, { commit, from }) => {
      const previous = repository.refs[ref] ?? null;
      if (previous !== from) throw new Error('moved');
      repository.refs[ref] = commit;
      return { ref, commit, previous, recorded: [commit], forced: false };
    },
    close: async () => {},
  };
  return { remote, repository, uploads };
}

describe('push and pull through a StockRemote', () => {
  it('sends only what the other side lacks and keeps head.stock where it should be', async () => {
    const server = await newStock();
    const { remote, uploads } = memoryRemote(server);
    const source = await newStock();
    await source.data.set('x', 'a', tensor([1, 2, 3]));
    await source.commit('first');
    await pushStock(source, remote, { repo: 'shared' });
    const copy = await newStock();
    const first = await pullStock(copy, remote, { repo: 'shared' });
    expect(first).toMatchObject({ status: 'fast-forward', commits: 1, objects: 2 });

    await source.data.set('x', 'b', tensor([4]));
    await source.commit('second');
    uploads.length = 0;
    await pushStock(source, remote);
    expect(uploads).toHaveLength(2);
    const second = await pullStock(copy, remote);
    expect(second).toMatchObject({ status: 'fast-forward', commits: 1, objects: 2 });
    expect(tensorValues(await copy.data.get('x', 'b'))).toEqual([4]);

    await copy.tag.set('local', true);
    const local = await copy.commit('local only');
    expect(await pullStock(copy, remote)).toMatchObject({ status: 'ahead', head: local });
  });

  it('refuses damaged objects and stores nothing of the commit that needed them', async () => {
    const server = await newStock();
    const source = await newStock();
    const sample = tensor([7, 8, 9]);
    await source.data.set('x', 'a', sample);
    await source.commit('first');
    const { remote } = memoryRemote(server, { damage: await source.objects.putTensor(sample) });
    await pushStock(source, remote, { repo: 'shared' });
    const copy = await newStock();
    await expect(pullStock(copy, remote, { repo: 'shared' })).rejects.toThrow(/arrived damaged.*pull again/);
    expect(await copy.head()).toBeUndefined();
    expect(await objectCount(copy)).toBe(0);
  });

  it('sends every object of a history pushed at once, each before the commit naming it', async () => {
    const server = await newStock();
    const { remote, repository, uploads } = memoryRemote(server);
    const source = await newStock();
    await source.data.set('x', 'a', tensor([1]));
    await source.data.set('x', 'b', tensor([2]));
    const first = await source.commit('first');
    await source.data.set('x', 'a', tensor([3]));
    const second = await source.commit('second');
    await source.data.set('x', 'c', tensor([4]));
    const third = await source.commit('third');
    const hashOf = (values: number[]) => source.objects.putTensor(tensor(values));

    const pushed = await pushStock(source, remote, { repo: 'shared' });
    expect(pushed).toMatchObject({ commit: third, objects: 7 });
    // [1] is named only by the first commit, which head no longer holds.
    const tensors = await Promise.all([[1], [2], [3], [4]].map(hashOf));
    expect(new Set(uploads)).toEqual(new Set([...tensors, first, second, third]));
    expect(uploads).toHaveLength(7);
    const at = (hash: string) => uploads.indexOf(hash);
    expect(Math.max(at(tensors[0] as string), at(tensors[1] as string))).toBeLessThan(at(first));
    expect(at(tensors[2] as string)).toBeLessThan(at(second));
    expect(at(tensors[3] as string)).toBeLessThan(at(third));
    expect(repository.refs.main).toBe(third);

    const copy = await newStock();
    expect(await pullStock(copy, remote, { repo: 'shared' })).toMatchObject({ status: 'fast-forward', head: third });
    for (const id of [first, second, third]) {
      expect((await copy.commitInfo(id)).tree).toEqual((await source.commitInfo(id)).tree);
    }
    await copy.checkout(first);
    expect(tensorValues(await copy.data.get('x', 'a'))).toEqual([1]);
  });

  it('sends everything to a repository it creates, one commit or a whole history', async () => {
    for (const commits of [1, 3]) {
      const server = await newStock();
      const { remote, repository, uploads } = memoryRemote(server, { uncreated: true });
      const source = await newStock();
      const ids: string[] = [];
      for (let at = 0; at < commits; at += 1) {
        // 20 samples written together go into a local pack; each commit replaces them.
        await source.data.setMany(
          'x',
          Array.from({ length: 20 }, (_, index) => [`s${index}`, tensor([at, index])] as const),
        );
        ids.push(await source.commit(`commit ${at}`));
      }
      const pushed = await pushStock(source, remote, { repo: 'shared' });
      expect(pushed).toMatchObject({ created: true, commit: ids.at(-1), objects: 21 * commits });
      expect(new Set(uploads).size).toBe(21 * commits);
      for (const id of ids) expect(uploads).toContain(id);
      expect(repository.refs.main).toBe(ids.at(-1));
      const copy = await newStock();
      await pullStock(copy, remote, { repo: 'shared' });
      await copy.checkout(ids[0] as string);
      expect(tensorValues(await copy.data.get('x', 's7'))).toEqual([0, 7]);
    }
  });

  it('sends nothing on a forced push back to a commit the server already holds', async () => {
    const server = await newStock();
    const { remote, repository, uploads } = memoryRemote(server);
    const source = await newStock();
    await source.data.set('x', 'a', tensor([1]));
    const first = await source.commit('first');
    await source.data.set('x', 'b', tensor([2]));
    await source.commit('second');
    await pushStock(source, remote, { repo: 'shared' });
    await source.checkout(first);
    uploads.length = 0;
    const back = await pushStock(source, remote, { force: true });
    expect(back).toMatchObject({ commit: first, objects: 0, bytes: 0 });
    expect(uploads).toEqual([]);
    expect(repository.refs.main).toBe(first);
  });
});
