import { LarderError } from '@larder/protocol';
import { describe, expect, test } from 'vitest';
import {
  assertJsonInput,
  jsonInputProblem,
  MAX_JSON_DEPTH,
  parseJsonInput,
  plainJsonText,
} from './json-input-limits.js';

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

describe('the scan of raw JSON text', () => {
  const texts = [
    '{"a":1,"b":[true,false,null],"c":"x"}',
    JSON.stringify(nested(MAX_JSON_DEPTH)),
    JSON.stringify(nested(MAX_JSON_DEPTH + 1)),
    '{"a":"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]","b":' +
      JSON.stringify(nested(MAX_JSON_DEPTH + 1)) +
      '}',
    '{"a":"\\u0000"}',
    '{"a":"\\ud800"}',
    '{"a":"\\ud83d\\ude00"}',
    '{"\\udc00":1}',
    '{"a":"\\\\u0000"}',
    '{"x":1e400}',
    '{"x":-1E+309}',
    '{"x":1e308}',
    `{"x":${'9'.repeat(400)}}`,
    `{"x":0.${'1'.repeat(400)}}`,
    '{"a":"😀 é"}',
    '{"a":"\\"quoted\\" [{"}',
    '[1,2.5,-3,0]',
  ];

  test('never vouches for text the walk refuses, and vouches for plain text', () => {
    for (const text of texts) {
      const refused = jsonInputProblem(JSON.parse(text)) !== undefined;
      if (refused) expect(plainJsonText(text), text.slice(0, 60)).toBe(false);
    }
    expect(plainJsonText('{"a":1,"b":[true,false,null],"c":"x"}')).toBe(true);
    expect(plainJsonText(JSON.stringify({ metrics: [{ key: 'loss', value: 0.25, step: 3 }] }))).toBe(true);
  });

  test('parseJsonInput answers what JSON.parse and the walk answer together', () => {
    for (const text of texts) {
      const problem = jsonInputProblem(JSON.parse(text));
      if (problem) expect(() => parseJsonInput(text, 'The body'), text.slice(0, 60)).toThrow(problem);
      else expect(parseJsonInput(text, 'The body')).toEqual(JSON.parse(text));
    }
    expect(() => parseJsonInput('{"a":', 'The body')).toThrow('The body is not valid JSON');
  });
});
