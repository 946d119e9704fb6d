import { LarderError } from '@larder/protocol';
import { describe, expect, test } from 'vitest';
import { assertJsonInput, jsonInputProblem, MAX_JSON_DEPTH } from './json-input-limits.js';

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let level = 0; level < depth; level++) value = level % 2 ? [value] : { d: value };
  return value;
}

describe('the JSON input limits', () => {
  test(`take nesting up to ${MAX_JSON_DEPTH} levels and refuse one more`, () => {
    expect(jsonInputProblem(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(jsonInputProblem(nested(MAX_JSON_DEPTH + 1))).toMatch(/nested deeper than 100 levels/);
  });

  test('walk a body nested a million deep without running out of stack', () => {
    expect(jsonInputProblem(nested(1_000_000))).toMatch(/nested deeper/);
  });

  test('refuse NUL and unpaired surrogates in strings and keys, and keep paired ones', () => {
    expect(jsonInputProblem({ name: 'a\u0000b' })).toMatch(/NUL character/);
    expect(jsonInputProblem(['x', '\ud800'])).toMatch(/unpaired surrogate/);
    expect(jsonInputProblem({ '\udc00': 1 })).toMatch(/has a key/);
    expect(jsonInputProblem({ emoji: '😀', 'é\u0301': 'ok', control: '\u0007' })).toBeUndefined();
  });

  test('refuse numbers that are not finite', () => {
    expect(jsonInputProblem({ x: JSON.parse('1e400') })).toMatch(/finite/);
    expect(jsonInputProblem({ x: 1e308, y: -0 })).toBeUndefined();
  });

  test('answer a 400 that names what was refused', () => {
    expect(() => assertJsonInput(nested(500), 'The body')).toThrow(LarderError);
    expect(() => assertJsonInput({ a: '\u0000' }, 'The query string')).toThrow(
      expect.objectContaining({
        code: 400,
        name: 'BadRequest',
        message: expect.stringMatching(/^The query string holds/),
      }),
    );
  });
});
