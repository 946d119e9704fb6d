import { describe, expect, it } from 'vitest';
import { assertStockName, type NameRole } from './stock-names.js';

const accepted = (role: NameRole, name: unknown): boolean => {
  try {
    assertStockName(role, name);
    return true;
  } catch (error) {
    expect(error).toMatchObject({ name: 'BadRequest' });
    return false;
  }
};

describe('assertStockName', () => {
  it('refuses exactly control characters, and path separators outside tensor names, for every code unit', () => {
    const wrong: string[] = [];
    for (let code = 0; code <= 0xffff; code += 1) {
      const c = String.fromCharCode(code);
      const control = code < 0x20 || code === 0x7f;
      const separator = c === '/' || c === '\\';
      const middle = `a${c}b`;
      if (accepted('sample', middle) !== !(control || separator)) wrong.push(`sample ${code}`);
      if (accepted('tensor', middle) !== !control) wrong.push(`tensor ${code}`);
      // At an end, white space is refused too (but not in tensor names).
      const spaced = c.trim() !== c;
      if (accepted('column', `${c}x`) !== !(control || separator || spaced)) wrong.push(`column start ${code}`);
    }
    expect(wrong).toEqual([]);
  });

  it('refuses reserved, empty, overlong and non-string names', () => {
    for (const name of ['.', '..', '__proto__', '', 'x'.repeat(256), 42, undefined]) {
      expect(accepted('sample', name), String(name)).toBe(false);
    }
    for (const name of ['...', '.x', '__proto__x', 'x'.repeat(255), 'cat-001', 'é 😀']) {
      expect(accepted('sample', name), name).toBe(true);
    }
    expect(accepted('tensor', 'dense/kernel')).toBe(true);
    expect(accepted('tensor', '__proto__')).toBe(false);
  });
});
