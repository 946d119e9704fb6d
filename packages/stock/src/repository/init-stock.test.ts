import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StockRoom } from '../stock-room.js';
import { temporaryDirectory } from '../test-support/temp-directory.js';
import { initStock } from './init-stock.js';
import { findStockRoot } from './stock-layout.js';

describe('initStock', () => {
  it('sets up head.stock and an ignored store inside a git repository', async () => {
    const repo = await temporaryDirectory();
    await mkdir(join(repo, '.git'));
    await writeFile(join(repo, '.gitignore'), 'node_modules/');
    const result = await initStock(repo);
    expect(result).toMatchObject({ root: repo, created: true, gitRoot: repo, gitignoreUpdated: true });
    expect(result.message).toContain('Commit head.stock and .gitignore');
    expect(await readFile(join(repo, 'head.stock'), 'utf8')).toBe('');
    expect(await readFile(join(repo, '.gitignore'), 'utf8')).toBe('node_modules/\n/.stock/\n');
    expect(existsSync(join(repo, '.stock', 'objects'))).toBe(true);
  });

  it('is idempotent and keeps the first commit', async () => {
    const repo = await temporaryDirectory();
    await initStock(repo);
    const stock = new StockRoom({ path: repo });
    await stock.tag.set('a', 1);
    const id = await stock.commit('one');
    const again = await initStock(repo);
    expect(again).toMatchObject({ created: false, gitignoreUpdated: false });
    expect(await stock.head()).toBe(id);
    expect((await readFile(join(repo, '.gitignore'), 'utf8')).match(/\.stock/g)).toHaveLength(1);
  });

  it('works outside git and says so', async () => {
    const dir = await temporaryDirectory();
    const result = await initStock(join(dir, 'new', 'project'));
    expect(result.gitRoot).toBeUndefined();
    expect(result.message).toContain('not inside a git repository');
    expect(existsSync(join(dir, 'new', 'project', 'head.stock'))).toBe(true);
  });

  it('is found by walking up from a subdirectory, and missing says what to do', async () => {
    const repo = await temporaryDirectory();
    await initStock(repo);
    const deep = join(repo, 'src', 'training');
    await mkdir(deep, { recursive: true });
    expect(findStockRoot(deep)).toBe(repo);
    const elsewhere = await temporaryDirectory();
    expect(() => findStockRoot(elsewhere)).toThrow('run "larder stock init" first');
  });
});
