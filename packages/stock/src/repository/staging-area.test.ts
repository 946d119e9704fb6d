import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { newStock } from '../test-support/new-stock.js';
import { emptyStaging, loadStaging, saveStaging } from './staging-area.js';

describe('staging.json', () => {
  it('keeps every change through a save and a fresh load, awkward keys and deletions included', async () => {
    const stock = await newStock();
    const staged = emptyStaging();
    const hash = 'ab'.repeat(32);
    staged.changes.set(
      'data/images',
      new Map<string, string | null>([
        ['10', hash],
        ['a"b\\c', null],
        ['é ü', hash],
      ]),
    );
    staged.changes.set('tag', new Map([['lr', hash]]));
    staged.columns.images = 'uint8';
    staged.packs.push('cd'.repeat(32));
    const saved = await saveStaging(stock.layout, staged);
    expect(JSON.parse(await readFile(stock.layout.staging, 'utf8'))).toEqual({
      changes: { 'data/images': { '10': hash, 'a"b\\c': null, 'é ü': hash }, tag: { lr: hash } },
      columns: { images: 'uint8' },
      packs: ['cd'.repeat(32)],
    });
    const loaded = await loadStaging(stock.layout);
    expect(loaded).toEqual(staged);
    // What this process wrote is handed back without a parse; a file changed since is parsed.
    expect(await loadStaging(stock.layout, saved)).toBe(staged);
    await writeFile(stock.layout.staging, JSON.stringify({ changes: { tag: { lr: null } } }));
    expect((await loadStaging(stock.layout, saved)).changes).toEqual(new Map([['tag', new Map([['lr', null]])]]));
    await writeFile(stock.layout.staging, '{"changes": {"tag": 3}}');
    await expect(loadStaging(stock.layout)).rejects.toThrow(/is damaged; delete it/);
  });
});
