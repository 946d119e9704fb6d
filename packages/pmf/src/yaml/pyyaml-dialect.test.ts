import { describe, expect, it } from 'vitest';
import { readYaml, writeYaml } from './pyyaml-dialect.js';

describe('the PyYAML dialect', () => {
  it('reads scalars as PyYAML safe_load does', () => {
    const reading = readYaml('a: .\nb: 1e3\nc: 09\nd: 010\ne: 1.0e+3\nf: y\ng: yes\nh: 12\ni: 12.0\n');
    expect(reading).toEqual({
      ok: true,
      value: new Map<string, unknown>([
        ['a', '.'],
        ['b', '1e3'],
        ['c', '09'],
        ['d', 8n],
        ['e', 1000],
        ['f', 'y'],
        ['g', true],
        ['h', 12n],
        ['i', 12],
      ]),
    });
  });

  it('quotes strings PyYAML would read as something else, and keeps integer keys', () => {
    const text = writeYaml(new Map<unknown, unknown>([[10, { a: 'yes', b: '010', c: 'null', d: '1:20' }]]));
    expect(text).toBe('10:\n  a: "yes"\n  b: "010"\n  c: "null"\n  d: "1:20"\n');
  });

  it('reports duplicate keys and alias bombs as problems', () => {
    expect(readYaml('a: 1\na: 2\n').ok).toBe(false);
    const bomb = [
      'a: &a [x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
    ];
    expect(readYaml(`${bomb.join('\n')}\n`).ok).toBe(false);
  });
});
