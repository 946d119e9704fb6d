/**
 * A small n-d array: a dtype, a shape and the elements in row-major order in a typed array.
 *
 * @example
 * const image = tensor(new Uint8Array(28 * 28), [28, 28]);
 * const flags = tensor([true, false, true]); // dtype bool, shape [3]
 */
import { LarderError } from '@larder/protocol';
import { DTYPES, type DType, dtypeOfArray, isDType, type TypedArray, type TypedArrays } from './dtypes.js';
import { fromFloat16Bits, toFloat16Bits } from './float16.js';

export interface Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: TypedArrays[D];
}

/** Plain values a tensor can be built from. */
export type TensorValues = TypedArray | readonly number[] | readonly bigint[] | readonly boolean[];

/**
 * Builds a tensor, checking that the shape matches the number of elements. Without a dtype it
 * follows the typed array (plain numbers become float32, booleans bool, bigints int64); with one,
 * values of another type are converted (numbers to float16 bits for float16).
 */
export function tensor(values: TensorValues, shape?: readonly number[], dtype?: DType): Tensor {
  const chosen = dtype ?? impliedDType(values);
  if (!isDType(chosen)) {
    throw new LarderError(
      'BadRequest',
      `Unknown dtype "${String(chosen)}": use one of ${Object.keys(DTYPES).join(', ')}`,
    );
  }
  const data = toTypedArray(values, chosen);
  const dims = shape ?? [data.length];
  assertShape(dims, data.length);
  return { dtype: chosen, shape: Object.freeze([...dims]), data } as Tensor;
}

/** True for anything shaped like a stock tensor. */
export function isTensor(value: unknown): value is Tensor {
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as Partial<Tensor>;
  return isDType(candidate.dtype) && Array.isArray(candidate.shape) && ArrayBuffer.isView(candidate.data);
}

/** The number of elements a shape holds (1 for a scalar, shape `[]`). */
export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

/** Throws a BadRequest unless `shape` lists non-negative integers whose product is `length`. */
export function assertShape(shape: readonly number[], length: number): void {
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw new LarderError(
        'BadRequest',
        `Invalid shape [${shape.join(', ')}]: dimensions must be non-negative integers`,
      );
    }
  }
  if (elementCount(shape) !== length) {
    throw new LarderError(
      'BadRequest',
      `Shape [${shape.join(', ')}] holds ${elementCount(shape)} elements but ${length} were given`,
    );
  }
}

/** The elements as plain JavaScript values: numbers, bigints (int64/uint64) or booleans (bool). */
export function tensorValues(t: Tensor): number[] | bigint[] | boolean[] {
  if (t.dtype === 'bool') return Array.from(t.data as Uint8Array, (v) => v !== 0);
  if (t.dtype === 'float16') return Array.from(t.data as Uint16Array, fromFloat16Bits);
  if (DTYPES[t.dtype].bigint) return Array.from(t.data as BigInt64Array);
  return Array.from(t.data as Float32Array);
}

function impliedDType(values: TensorValues): DType {
  if (ArrayBuffer.isView(values)) return dtypeOfArray(values);
  const first = values[0];
  if (typeof first === 'boolean') return 'bool';
  if (typeof first === 'bigint') return 'int64';
  return 'float32';
}

function toTypedArray(values: TensorValues, dtype: DType): TypedArray {
  const { array, bigint } = DTYPES[dtype];
  if (
    ArrayBuffer.isView(values) &&
    values instanceof array &&
    (dtype !== 'bool' || isZeroOrOne(values as Uint8Array))
  ) {
    return values;
  }
  const target = DTYPES[dtype].allocate(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number | bigint | boolean;
    target[i] = convertElement(value, dtype, bigint) as never;
  }
  return target;
}

function convertElement(value: number | bigint | boolean, dtype: DType, bigint: boolean): number | bigint {
  if (dtype === 'bool') return value ? 1 : 0;
  if (bigint) {
    if (typeof value === 'bigint') return value;
    const number = Number(value);
    if (!Number.isInteger(number)) {
      throw new LarderError('BadRequest', `${dtype} tensors hold integers; ${String(value)} is not one`);
    }
    return BigInt(number);
  }
  const number = Number(value);
  return dtype === 'float16' ? toFloat16Bits(number) : number;
}

function isZeroOrOne(values: Uint8Array): boolean {
  for (const value of values) if (value > 1) return false;
  return true;
}
