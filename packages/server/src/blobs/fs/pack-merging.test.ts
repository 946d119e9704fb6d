/** Which small packs a merge takes: none while few, the oldest that fit, never one alone. */
import { describe, expect, it } from 'vitest';
import { type MergeLimits, packsToMerge } from './pack-merging.js';

const limits: MergeLimits = { smallPackBytes: 1000, mergeAt: 4, mergedPackBytes: 2500, packsPerMerge: 100 };
const packs = (...lives: number[]) => lives.map((live, at) => ({ id: at + 10, live }));

describe('packsToMerge', () => {
  it('takes none while there are fewer small packs than mergeAt', () => {
    expect(packsToMerge(packs(100, 100, 100), limits)).toEqual([]);
  });

  it('takes them all, oldest first, when they fit in one merged pack', () => {
    expect(packsToMerge(packs(100, 200, 300, 400), limits)).toEqual([10, 11, 12, 13]);
  });

  it('stops at the merged pack size, keeping the oldest', () => {
    expect(packsToMerge(packs(900, 900, 600, 500, 10), limits)).toEqual([10, 11, 12]);
  });

  it('takes none when not even two fit', () => {
    expect(packsToMerge(packs(2000, 900, 900, 900), limits)).toEqual([]);
  });
});
