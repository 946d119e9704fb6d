import { spawn } from 'node:child_process';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { StockRoom } from '../stock-room.js';
import { tensor } from '../tensor/tensor.js';
import { newStock, objectCount } from '../test-support/new-stock.js';
import { decodeIndex } from './pack-format.js';

/** The child process runs the built package (as a user's script would): `npm run build` first. */
const DIST_INDEX = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

const sample = (index: number) => {
  const bytes = new Uint8Array(784);
  for (let j = 0; j < bytes.length; j++) bytes[j] = (index * 31 + j * 7) & 0xff;
  new DataView(bytes.buffer).setUint32(0, index, true);
  return tensor(bytes, [28, 28], 'uint8');
};

async function writeSamples(stock: StockRoom, count: number, from = 0): Promise<void> {
  await stock.optimize(async () => {
    for (let i = from; i < from + count; i++) await stock.data.set('images', `s${i}`, sample(i));
  });
}

const packFiles = async (stock: StockRoom) => (await readdir(stock.layout.packs).catch(() => [])).sort();
const bytesOf = (t: { data: ArrayBufferView }) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

describe('packs of small objects', () => {
  it('writes a batch of samples as one pack and index, and reads each back as written', async () => {
    const stock = await newStock();
    await writeSamples(stock, 500);
    const id = await stock.commit('500 samples');
    const files = await packFiles(stock);
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^[0-9a-f]{64}\.idx$/);
    expect(files[1]).toBe(files[0]?.replace('.idx', '.pack'));
    const index = decodeIndex(await readFile(join(stock.layout.packs, files[0] as string)), 'test');
    expect(index.count).toBe(500);
    expect(await objectCount(stock)).toBe(1); // the commit alone is a file of its own

    const view = reopen(stock.root, id);
    for (const i of [0, 1, 250, 499])
      expect(bytesOf(await view.data.get('images', `s${i}`))).toEqual(bytesOf(sample(i)));
    expect(await view.data.keys('images')).toHaveLength(500);
    expect((await stock.objects.check()).problems).toEqual([]);
  });

  it('reads samples of two columns, interleaved, each with its own dtype and shape', async () => {
    const stock = await newStock();
    await stock.optimize(async () => {
      for (let i = 0; i < 40; i++) {
        await stock.data.set('images', `s${i}`, sample(i));
        await stock.data.set('boxes', `s${i}`, tensor(new Float32Array([i, i + 0.5, -i]), [3], 'float32'));
      }
    });
    const id = await stock.commit('two columns');
    const view = reopen(stock.root, id);
    for (let i = 0; i < 40; i++) {
      const image = await view.data.get('images', `s${i}`);
      const box = await view.data.get('boxes', `s${i}`);
      expect([image.dtype, image.shape]).toEqual(['uint8', [28, 28]]);
      expect(bytesOf(image)).toEqual(bytesOf(sample(i)));
      expect([box.dtype, box.shape, [...box.data]]).toEqual(['float32', [3], [i, i + 0.5, -i]]);
      // Samples share their column's parsed shape, which nobody can change for the others.
      expect(Object.isFrozen(box.shape)).toBe(true);
    }
  });

  it('writes a handful of objects as files of their own, and reads repositories of loose objects as before', async () => {
    const stock = await newStock();
    await stock.data.set('images', 'one', sample(1));
    await stock.tag.set('lr', 0.1);
    await stock.commit('loose');
    expect(await packFiles(stock)).toEqual([]);
    expect(await objectCount(stock)).toBe(3);
    await writeSamples(stock, 40, 10);
    await stock.commit('packed on top of loose');
    const fresh = reopen(stock.root);
    expect(bytesOf(await fresh.data.get('images', 'one'))).toEqual(bytesOf(sample(1)));
    expect(bytesOf(await fresh.data.get('images', 's42'))).toEqual(bytesOf(sample(42)));
    expect(await fresh.tag.get('lr')).toBe(0.1);
  });

  it('catches a flipped byte in a pack when the object is read, and in fsck', async () => {
    const stock = await newStock();
    await writeSamples(stock, 100);
    const id = await stock.commit('samples');
    const [, pack] = await packFiles(stock);
    const path = join(stock.layout.packs, pack as string);
    const bytes = await readFile(path);
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] as number) ^ 0x01;
    await writeFile(path, bytes);
    const view = reopen(stock.root, id);
    const reads = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => view.data.get('images', `s${i}`)));
    const failures = reads.filter((read) => read.status === 'rejected');
    expect(failures).toHaveLength(1);
    expect(String((failures[0] as PromiseRejectedResult).reason)).toMatch(/is corrupted: its content hashes to/);
    const check = await stock.objects.check();
    expect(check.problems.join('\n')).toMatch(/is damaged: it hashes to/);
  });

  it('refuses a damaged index with what to do, and fsck --repair rebuilds it', async () => {
    const stock = await newStock();
    await writeSamples(stock, 50);
    const id = await stock.commit('samples');
    const [index] = await packFiles(stock);
    const path = join(stock.layout.packs, index as string);
    const bytes = await readFile(path);
    bytes[200] = (bytes[200] as number) ^ 0xff;
    await writeFile(path, bytes);
    await expect(reopen(stock.root, id).data.get('images', 's1')).rejects.toThrow(/damaged.*fsck --repair/);
    const repaired = await stock.objects.check({ repair: true });
    expect(repaired.repaired.join()).toMatch(/rebuilt the index/);
    expect(bytesOf(await reopen(stock.root, id).data.get('images', 's1'))).toEqual(bytesOf(sample(1)));
  });

  it('keeps a batch that crashed before it ended invisible, and a pack without its index recoverable', async () => {
    const stock = await newStock();
    await writeSamples(stock, 30);
    const first = await stock.commit('committed');
    // Another process writes samples and dies inside optimize(), before the batch ends (12,000
    // samples: more than two of the writer's 4 MiB slabs, so the first is on disk by then).
    const script = `
      const { StockRoom, tensor } = await import(${JSON.stringify(DIST_INDEX)});
      const stock = new StockRoom({ path: ${JSON.stringify(stock.root)} });
      await stock.optimize(async () => {
        for (let i = 0; i < 12000; i++) { const b = new Uint8Array(784); new DataView(b.buffer).setUint32(8, i, true); await stock.data.set('images', 'crash' + i, tensor(b, [28, 28], 'uint8')); }
        process.exit(3);
      });`;
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
      child.on('exit', resolve);
    });
    expect(code).toBe(3);
    expect((await readdir(stock.layout.scratch)).some((file) => file.endsWith('.pack.tmp'))).toBe(true);
    const after = reopen(stock.root);
    expect(await after.status()).toEqual({});
    expect(await after.data.keys('images')).toHaveLength(30);
    // Its lock is taken over (its process is gone) and the repository goes on.
    await writeSamples(after, 20, 30);
    const second = await after.commit('after the crash');
    expect((await after.objects.check({ repair: true })).repaired.join()).toMatch(/removed the unfinished/);

    // A pack renamed into place whose index was not (a crash between the two renames).
    const [index] = (await packFiles(after)).filter((file) => file.endsWith('.idx'));
    await rm(join(after.layout.packs, index as string));
    await expect(reopen(stock.root, second).data.get('images', 's0')).rejects.toThrow(/missing/);
    const check = await after.objects.check({ repair: true });
    expect(check.problems.join()).toMatch(/has no index/);
    const healed = reopen(stock.root, first);
    expect(bytesOf(await healed.data.get('images', 's0'))).toEqual(bytesOf(sample(0)));
  });
});

/** A fresh StockRoom over the same folder (no in-memory state shared with the writer). */
function reopen(root: string, commit?: string): StockRoom {
  return new StockRoom({ path: root, ...(commit ? { commit } : {}) });
}
