import { describe, expect, it } from 'vitest';
import { objectPath } from './object-path.js';

describe('objectPath', () => {
  it.each([
    ['1.png', undefined, '1.png'],
    ['images/1.png', undefined, '1.png'],
    ['1.png', '1.png', '1.png'],
    ['1.png', 'a/', 'a/1.png'],
    ['1.png', 'a/1.png', 'a/1.png'],
    ['1.png', 'a/b/renamed.png', 'a/b/renamed.png'],
    ['a/', undefined, 'a'],
    ['a', undefined, 'a'],
    ['a/', 'a', 'a'],
    ['a/', 'b/', 'b/a'],
    ['a/', 'b/a', 'b/a'],
    ['s3://bucket/data/mnist.tar', undefined, 'mnist.tar'],
    ['https://example.org/files/x.csv?version=2', 'data/', 'data/x.csv'],
  ])('puts %s with objPath %s at %s', (source, objPath, expected) => {
    expect(objectPath(source, objPath)).toBe(expected);
  });

  it('refuses paths that leave the artifact', () => {
    expect(() => objectPath('1.png', '../1.png')).toThrow(/relative objPath/);
    expect(() => objectPath('1.png', '/etc/1.png')).toThrow(/relative objPath/);
  });
});
