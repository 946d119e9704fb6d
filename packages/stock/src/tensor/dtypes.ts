/**
 * The element types a stock tensor can hold, with the typed array that stores each one and
 * its byte width. `float16` is kept as raw IEEE half bits in a Uint16Array (Node 20 has no
 * Float16Array); `bool` is one byte per element, 0 or 1.
 */

export interface TypedArrays {
  float16: Uint16Array;
  float32: Float32Array;
  float64: Float64Array;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint8: Uint8Array;
  uint16: Uint16Array;
  uint32: Uint32Array;
  uint64: BigUint64Array;
  bool: Uint8Array;
}

export type DType = keyof TypedArrays;
export type TypedArray = TypedArrays[DType];

interface DTypeInfo {
  readonly bytes: 1 | 2 | 4 | 8;
  readonly array: new (buffer: ArrayBufferLike, byteOffset: number, length: number) => TypedArray;
  readonly allocate: (length: number) => TypedArray;
  readonly bigint: boolean;
}

function info<A extends TypedArray>(
  bytes: 1 | 2 | 4 | 8,
  array: {
    new (length: number): A;
    new (buffer: ArrayBufferLike, byteOffset: number, length: number): A;
  },
  bigint = false,
): DTypeInfo {
  return { bytes, array, allocate: (length) => new array(length), bigint };
}

export const DTYPES: Readonly<Record<DType, DTypeInfo>> = {
  float16: info(2, Uint16Array),
  float32: info(4, Float32Array),
  float64: info(8, Float64Array),
  int8: info(1, Int8Array),
  int16: info(2, Int16Array),
  int32: info(4, Int32Array),
  int64: info(8, BigInt64Array, true),
  uint8: info(1, Uint8Array),
  uint16: info(2, Uint16Array),
  uint32: info(4, Uint32Array),
  uint64: info(8, BigUint64Array, true),
  bool: info(1, Uint8Array),
};

export const DTYPE_NAMES = Object.keys(DTYPES) as DType[];

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && Object.hasOwn(DTYPES, value);
}

/** The dtype a typed array implies when none is given (Uint16Array reads as uint16, Uint8Array as uint8). */
export function dtypeOfArray(array: TypedArray): DType {
  if (array instanceof Float32Array) return 'float32';
  if (array instanceof Float64Array) return 'float64';
  if (array instanceof Int8Array) return 'int8';
  if (array instanceof Int16Array) return 'int16';
  if (array instanceof Int32Array) return 'int32';
  if (array instanceof BigInt64Array) return 'int64';
  if (array instanceof Uint8Array) return 'uint8';
  if (array instanceof Uint16Array) return 'uint16';
  if (array instanceof Uint32Array) return 'uint32';
  return 'uint64';
}
