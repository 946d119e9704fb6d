/** A freshly initialised stock repository in a temporary directory. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { initStock } from '../repository/init-stock.js';
import { StockRoom, type StockRoomOptions } from '../stock-room.js';
import { temporaryDirectory } from './temp-directory.js';

export async function newStock(options: StockRoomOptions = {}): Promise<StockRoom> {
  const path = await temporaryDirectory();
  await initStock(path);
  return new StockRoom({ path, author: 'tester', ...options });
}

/** How many object files the repository holds. */
export async function objectCount(stock: StockRoom): Promise<number> {
  let count = 0;
  for (const folder of await readdir(join(stock.root, '.stock', 'objects'))) {
    count += (await readdir(join(stock.root, '.stock', 'objects', folder))).length;
  }
  return count;
}
