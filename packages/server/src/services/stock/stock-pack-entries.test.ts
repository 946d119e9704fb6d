import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PackEntries } from './stock-pack-entries.js';

/** A deterministic raw id: the SHA-256 of `seed`, with its first four bytes replaced when `prefix` is given. */
const rawId = (seed: number, prefix?: number): Buffer => {
  const id = createHash('sha256').update(String(seed)).digest();
  if (prefix !== undefined) id.writeUInt32BE(prefix, 0);
  return id;
};

describe('PackEntries', () => {
  it('orders thousands of ids as their hex sorts, ties on the first four bytes included, each id once', () => {
    const entries = new PackEntries();
    const listed: { hex: string; offset: number; length: number }[] = [];
    for (let n = 0; n < 2600; n += 1) {
      // Every seventh id shares its first four bytes with others; every 500th repeats an earlier id.
      const id =
        n % 500 === 499
          ? rawId(n - 400, (n - 400) % 7 === 0 ? 0x12345678 : undefined)
          : rawId(n, n % 7 === 0 ? 0x12345678 : undefined);
      const offset = 16 + n * 48;
      entries.add(id.toString('latin1'), offset, 8 + (n % 40));
      listed.push({ hex: id.toString('hex'), offset, length: 8 + (n % 40) });
    }
    const first = new Map<string, { offset: number; length: number }>();
    for (const { hex, offset, length } of listed) if (!first.has(hex)) first.set(hex, { offset, length });
    const expected = [...first.keys()].sort();

    expect(entries.listed).toBe(2600);
    expect(entries.size).toBe(first.size);
    const order = [...entries.order()];
    const raw = entries.rawIds();
    expect(order.map((n) => raw.toString('hex', n * 32, n * 32 + 32))).toEqual(expected);
    expect(order.map((n) => ({ offset: entries.offsetOf(n), length: entries.lengthOf(n) }))).toEqual(
      expected.map((hex) => first.get(hex)),
    );
    for (const [hex, place] of first) expect(entries.get(hex)).toEqual(place);
    expect(entries.get('ab'.repeat(32))).toBeUndefined();
    expect(entries.indexOf('not an id')).toBe(-1);
  });

  it('answers lookups made between additions from all the entries so far', () => {
    const entries = new PackEntries();
    entries.add(rawId(1).toString('latin1'), 16, 8);
    expect(entries.get(rawId(1).toString('hex'))).toEqual({ offset: 16, length: 8 });
    entries.add(rawId(2).toString('latin1'), 64, 9);
    expect(entries.get(rawId(2).toString('hex'))).toEqual({ offset: 64, length: 9 });
    expect(entries.size).toBe(2);
  });

  it('takes only 32-byte ids', () => {
    expect(() => new PackEntries().add('ab'.repeat(32), 16, 8)).toThrow(RangeError);
  });
});
