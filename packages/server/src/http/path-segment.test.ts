import { describe, expect, test } from 'vitest';
import { decodePathSegment } from './path-segment.js';

describe('percent-decoding of a path segment', () => {
  test('decodes what clients encode', () => {
    expect(decodePathSegment('run%3A1%40host')).toBe('run:1@host');
    expect(decodePathSegment('plain')).toBe('plain');
    expect(decodePathSegment('%E2%9C%93')).toBe('✓');
  });

  test.each(['%ZZ', '%', 'a%2', '%E0%A4%A', '%C0%AF', '%FF'])(
    'refuses %s with a 400 that says how to encode',
    (segment) => {
      expect(() => decodePathSegment(segment)).toThrow(
        expect.objectContaining({ code: 400, message: expect.stringMatching(/not valid percent-encoding; encode it/) }),
      );
    },
  );
});
