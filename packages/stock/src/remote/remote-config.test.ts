import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { stockLayout } from '../repository/stock-layout.js';
import { newStock } from '../test-support/new-stock.js';
import { chooseRepositoryName, readStockConfig, saveRemoteRepository } from './remote-config.js';

describe('the local stock config', () => {
  it('remembers the remote repository and keeps settings it does not know', async () => {
    const stock = await newStock();
    const layout = stockLayout(stock.root);
    const folder = await chooseRepositoryName(layout, undefined);
    expect(folder).toMatch(/^larder-stock-/);
    await writeFile(layout.config, JSON.stringify({ future: { x: 1 }, remote: { branch: 'dev' } }));
    await saveRemoteRepository(layout, 'mnist');
    expect(JSON.parse(await readFile(layout.config, 'utf8'))).toEqual({
      future: { x: 1 },
      remote: { branch: 'dev', repo: 'mnist' },
    });
    expect(await chooseRepositoryName(layout, undefined)).toBe('mnist');
    expect(await chooseRepositoryName(layout, ' other ')).toBe('other');
  });

  it('says how to repair a damaged config', async () => {
    const stock = await newStock();
    const layout = stockLayout(stock.root);
    await writeFile(layout.config, '{"remote": {"repo": 42}}');
    await expect(readStockConfig(layout)).rejects.toThrow(/not a valid stock config: fix it, or delete it/);
    await writeFile(layout.config, '{');
    await expect(chooseRepositoryName(layout, undefined)).rejects.toThrow(/not a valid stock config/);
  });
});
