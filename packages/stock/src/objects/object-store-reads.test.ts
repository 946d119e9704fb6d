/**
 * Reads of packed objects are checked by their hash alone on the common path: the checks a
 * separate id test made must still hold (a malformed id is a BadRequest, damaged bytes a
 * clear Unprocessable), whatever path the read takes.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StockRoom } from '../stock-room.js';
import { tensor } from '../tensor/tensor.js';
import { newStock } from '../test-support/new-stock.js';

async function packedSamples(count: number): Promise<{ stock: StockRoom; ids: string[] }> {
  const stock = await newStock();
  const ids: string[] = [];
  await stock.optimize(async () => {
    for (let i = 0; i < count; i++) {
      const sample = tensor(new Uint8Array([i, i + 1, i + 2, 7]), [2, 2], 'uint8');
      await stock.data.set('x', `s${i}`, sample);
      ids.push(await stock.objects.putTensor(sample));
    }
  });
  await stock.commit('packed');
  return { stock, ids };
}

describe('reading packed objects', () => {
  it('refuses an id that is not 64 lower-case hex digits, even one whose bytes name a packed object', async () => {
    const { stock, ids } = await packedSamples(20);
    const id = ids[3] as string;
    expect(Buffer.from(await stock.objects.readRaw(id)).length).toBeGreaterThan(8);
    for (const bad of [id.toUpperCase(), id.slice(0, 63), `${id}0`, 'zz'.repeat(32), 42 as unknown as string]) {
      await expect(stock.objects.readRaw(bad)).rejects.toMatchObject({ name: 'BadRequest' });
    }
  });

  it('refuses a packed object whose bytes were damaged, naming it', async () => {
    const { stock, ids } = await packedSamples(20);
    const pack = (await readdir(stock.layout.packs)).find((file) => file.endsWith('.pack')) as string;
    const bytes = await readFile(join(stock.layout.packs, pack));
    const object = Buffer.from(await stock.objects.readRaw(ids[5] as string));
    const at = bytes.indexOf(object) + object.length - 1;
    expect(at).toBeGreaterThan(16);
    bytes[at] = (bytes[at] as number) ^ 0xff;
    await writeFile(join(stock.layout.packs, pack), bytes);
    const fresh = new StockRoom({ path: stock.root });
    const results = await Promise.allSettled(ids.map((id) => fresh.objects.readRaw(id)));
    const refused = results.filter((result) => result.status === 'rejected');
    expect(refused).toHaveLength(1);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({
      name: 'Unprocessable',
      message: expect.stringMatching(/is corrupted: its content hashes to/),
    });
  });
});
