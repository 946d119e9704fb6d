import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';

/** The way earlier versions wrote canonical JSON: sorted plain copies, then JSON.stringify. */
function sortedCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedCopy);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortedCopy((value as Record<string, unknown>)[key]);
  return sorted;
}

/** Pieces of keys and strings: plain ones, and every kind JSON.stringify escapes. */
const TEXTS = [
  'a',
  'é',
  '"q"',
  '\\',
  '\n',
  'z9',
  '',
  '__proto__x',
  '10',
  '2',
  '\u0001',
  '\u001f',
  '\ud800',
  '😀',
  '\u2028',
  '\u007f',
];

/** A small seeded generator, so a failure can be replayed. */
function randomValue(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 3 ? 7 : 9));
  const text = () => TEXTS[Math.floor(next() * TEXTS.length)] as string;
  switch (pick) {
    case 0:
      return null;
    case 1:
      return next() < 0.5;
    case 2:
      return [0, -0, 1.5, 1e21, -3, Number.NaN, Number.POSITIVE_INFINITY][Math.floor(next() * 7)];
    case 3:
      return text() + text();
    case 4:
      return undefined;
    case 5:
      return () => 1;
    case 6:
      return new Date(0);
    case 7:
      return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
    default: {
      const record: Record<string, unknown> = {};
      for (let i = Math.floor(next() * 5); i > 0; i -= 1) record[text() + text()] = randomValue(next, depth + 1);
      return record;
    }
  }
}

describe('canonicalJson', () => {
  it('writes exactly what sorted copies through JSON.stringify wrote, on 2,000 random values', () => {
    let state = 12345;
    const next = () => {
      state = (state * 1_103_515_245 + 12_345) >>> 0;
      return state / 2 ** 32;
    };
    for (let round = 0; round < 2000; round += 1) {
      const value = { tree: randomValue(next, 0), list: [randomValue(next, 1)] };
      expect(canonicalJson(value)).toBe(JSON.stringify(sortedCopy(value)));
    }
  });

  it('sorts keys at every level and leaves out undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, undefined], c: 'x' }, e: undefined })).toBe(
      '{"a":{"c":"x","d":[3,null]},"b":1}',
    );
  });
});
