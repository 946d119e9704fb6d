import { describe, expect, it } from 'vitest';
import { StockRoom } from '../stock-room.js';
import { newStock } from '../test-support/new-stock.js';

describe('tags', () => {
  it('read back with their type', async () => {
    const stock = await newStock();
    await stock.optimize(async () => {
      await stock.tag.set('epochs', 1000);
      await stock.tag.set('lr', 0.0001);
      await stock.tag.set('momentum', 1, 'float');
      await stock.tag.set('optimizer', 'adam');
      await stock.tag.set('shuffle', false);
      await stock.tag.set('seed', 2n ** 70n);
      await stock.tag.set('loss', Number.NaN);
    });
    await stock.commit('hyper-parameters');
    const reader = new StockRoom({ path: stock.root });
    expect(await reader.tag.entries()).toEqual([
      ['epochs', { type: 'int', value: 1000 }],
      ['loss', { type: 'float', value: Number.NaN }],
      ['lr', { type: 'float', value: 0.0001 }],
      ['momentum', { type: 'float', value: 1 }],
      ['optimizer', { type: 'string', value: 'adam' }],
      ['seed', { type: 'int', value: 2n ** 70n }],
      ['shuffle', { type: 'bool', value: false }],
    ]);
    expect(await reader.tag.get('epochs')).toBe(1000);
    expect(await reader.tag.has('nothing')).toBe(false);
    await expect(reader.tag.get('nothing')).rejects.toThrow('No tag "nothing"');
  });

  it('refuses values that do not match the type asked for', async () => {
    const stock = await newStock();
    await expect(stock.tag.set('a', 1.5, 'int')).rejects.toThrow('Tag "a": 1.5 is not an integer');
    await expect(stock.tag.set('a', 'x', 'bool')).rejects.toThrow('x is not a boolean');
    await expect(stock.tag.set('a', { x: 1 } as never)).rejects.toThrow('a object cannot be a tag');
  });
});
