import { describe, expect, it } from 'vitest';
import { packBytes, packObjects } from '../test-support/pack-bytes.js';
import { packScanner, scanPack } from './pack-format.js';

/** `pack` fed to a scanner in chunks of the sizes `sizes` gives in turn. */
function scanInChunks(pack: Buffer, sizes: (index: number) => number) {
  const scanner = packScanner('test');
  for (let at = 0, index = 0; at < pack.length; index += 1) {
    const end = Math.min(pack.length, at + Math.max(1, sizes(index)));
    scanner.take(pack.subarray(at, end));
    at = end;
  }
  return scanner.finish();
}

const messageOf = (work: () => unknown): string => {
  try {
    work();
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
  return 'no error';
};

describe('packScanner', () => {
  const objects = packObjects(400);
  const pack = packBytes(objects);
  const whole = scanPack(pack, 'test');

  it('finds the same entries however the chunks cut headers, objects and padding', () => {
    expect(whole.size).toBe(400);
    for (const [id, bytes] of objects) {
      const entry = whole.get(id);
      expect(entry?.length).toBe(bytes.length);
      expect(pack.subarray(entry?.offset, (entry?.offset ?? 0) + bytes.length).equals(bytes)).toBe(true);
    }
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % 3000;
    };
    for (const sizes of [() => 1, () => 7, () => 40, () => 41, () => 65_536, random]) {
      expect([...scanInChunks(pack, sizes)]).toEqual([...whole]);
    }
  });

  it('refuses an object that does not hash to its id, whole in a chunk or cut across two', () => {
    const damaged = Buffer.from(pack);
    const [, target] = [...whole][200] as [string, { offset: number; length: number }];
    const flipped = target.offset + Math.floor(target.length / 2);
    damaged.writeUInt8(damaged.readUInt8(flipped) ^ 1, flipped);
    const inOne = messageOf(() => scanPack(damaged, 'test'));
    expect(inOne).toMatch(/^Unprocessable: The stock pack test is damaged: object [0-9a-f]{12} at byte \d+ hashes to/);
    // Cut in the damaged object's middle: it is hashed piece by piece.
    const cut = target.offset + 3;
    expect(messageOf(() => scanInChunks(damaged, (index) => (index === 0 ? cut : 1 << 20)))).toBe(inOne);
  });

  it('refuses a pack that is not one, or that ends inside an entry', () => {
    expect(messageOf(() => scanPack(Buffer.from('LSP2'.padEnd(16, '\0')), 'test'))).toMatch(/not a stock pack/);
    expect(messageOf(() => scanInChunks(pack.subarray(0, 10), () => 3))).toMatch(/not a stock pack/);
    const [, last] = [...whole].at(-1) as [string, { offset: number; length: number }];
    expect(messageOf(() => scanInChunks(pack.subarray(0, last.offset - 20), () => 100))).toMatch(
      /ends inside an entry header at byte \d+/,
    );
    expect(messageOf(() => scanInChunks(pack.subarray(0, last.offset + 1), () => 100))).toMatch(
      /the object at byte \d+ runs past its end/,
    );
  });
});
