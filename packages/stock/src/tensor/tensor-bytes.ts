/**
 * Tensors as little-endian bytes, the layout both the object store and safetensors use.
 * On little-endian hosts (all that Node supports in practice) these are views, not copies.
 */
import { endianness } from 'node:os';
import { LarderError } from '@larder/protocol';
import { DTYPES, type DType } from './dtypes.js';
import { assertShape, elementCount, type Tensor } from './tensor.js';

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** The tensor's elements as little-endian bytes. */
export function tensorBytes(t: Tensor): Uint8Array {
  // uint8 and bool data are their own bytes: no view to make, whatever the host.
  if (t.data instanceof Uint8Array) return t.data;
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return LITTLE_ENDIAN_HOST ? bytes : swapped(bytes, DTYPES[t.dtype].bytes);
}

/**
 * A tensor over little-endian `bytes`. It shares memory with `bytes` when alignment allows,
 * so the caller must not reuse that memory afterwards.
 */
export function tensorFromBytes(dtype: DType, shape: readonly number[], bytes: Uint8Array): Tensor {
  const { bytes: width, array } = DTYPES[dtype];
  const length = elementCount(shape);
  if (bytes.byteLength !== length * width) {
    throw new LarderError(
      'Unprocessable',
      `A ${dtype} tensor of shape [${shape.join(', ')}] needs ${length * width} bytes, found ${bytes.byteLength}`,
    );
  }
  assertShape(shape, length);
  let source = bytes;
  if (!LITTLE_ENDIAN_HOST) source = swapped(bytes, width);
  else if (source.byteOffset % width !== 0) source = source.slice();
  const data = new array(source.buffer, source.byteOffset, length);
  // A frozen shape (a parsed header's, shared by a column's samples) is used as it is.
  return { dtype, shape: Object.isFrozen(shape) ? shape : Object.freeze([...shape]), data } as Tensor;
}

function swapped(bytes: Uint8Array, width: number): Uint8Array {
  const copy = new Uint8Array(bytes.byteLength);
  for (let i = 0; i < bytes.byteLength; i += width) {
    for (let j = 0; j < width; j++) copy[i + j] = bytes[i + width - 1 - j] as number;
  }
  return copy;
}
