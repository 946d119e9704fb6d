import { describe, expect, it } from 'vitest';
import { DTYPE_NAMES } from './dtypes.js';
import { fromFloat16Bits, toFloat16Bits } from './float16.js';
import { tensor, tensorValues } from './tensor.js';
import { tensorBytes, tensorFromBytes } from './tensor-bytes.js';

describe('tensor', () => {
  it('infers the dtype from the values and the shape from their count', () => {
    expect(tensor(new Int16Array(4))).toMatchObject({ dtype: 'int16', shape: [4] });
    expect(tensor([1, 2, 3])).toMatchObject({ dtype: 'float32', shape: [3] });
    expect(tensor([true, false])).toMatchObject({ dtype: 'bool', shape: [2] });
    expect(tensor([1n, 2n])).toMatchObject({ dtype: 'int64', shape: [2] });
  });

  it('converts values to the dtype asked for', () => {
    const t = tensor([1, 2, 3, 4], [2, 2], 'uint64');
    expect(t.data).toBeInstanceOf(BigUint64Array);
    expect(tensorValues(t)).toEqual([1n, 2n, 3n, 4n]);
    expect(tensorValues(tensor([0.5, -2], [2], 'float16'))).toEqual([0.5, -2]);
    expect(tensorValues(tensor(new Uint8Array([0, 3]), [2], 'bool'))).toEqual([false, true]);
  });

  it('refuses a shape that does not match the values, and unknown dtypes', () => {
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow('Shape [2, 2] holds 4 elements but 3 were given');
    expect(() => tensor([1], [-1])).toThrow('non-negative integers');
    expect(() => tensor([1], [1], 'complex64' as never)).toThrow('Unknown dtype "complex64"');
    expect(() => tensor([1.5], [1], 'int64')).toThrow('1.5 is not one');
  });

  it('holds a scalar as shape []', () => {
    expect(tensorValues(tensor([7], [], 'int32'))).toEqual([7]);
  });

  it('reads back its little-endian bytes for every dtype', () => {
    for (const dtype of DTYPE_NAMES) {
      const t = tensor([1, 0, 1], [3], dtype);
      const back = tensorFromBytes(dtype, [3], tensorBytes(t).slice());
      expect(tensorValues(back)).toEqual(tensorValues(t));
    }
    expect([...tensorBytes(tensor(new Uint16Array([0x0102])))]).toEqual([0x02, 0x01]);
  });

  it('copies when bytes are not aligned for the dtype', () => {
    const buffer = new Uint8Array(9);
    buffer.set(new Uint8Array(new Float64Array([6.25]).buffer), 1);
    expect(tensorValues(tensorFromBytes('float64', [1], buffer.subarray(1)))).toEqual([6.25]);
  });
});

describe('float16', () => {
  it('round-trips exactly representable values and rounds the rest to nearest even', () => {
    for (const value of [0, -0, 1, -1, 0.5, 65504, 2 ** -24, 2 ** -14, Number.POSITIVE_INFINITY]) {
      expect(fromFloat16Bits(toFloat16Bits(value))).toBe(value);
    }
    expect(toFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // halfway, rounds to even
    expect(toFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toFloat16Bits(1e6)).toBe(0x7c00);
    expect(Number.isNaN(fromFloat16Bits(toFloat16Bits(Number.NaN)))).toBe(true);
  });
});
