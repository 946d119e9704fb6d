/**
 * Conversions between stock tensors and TensorFlow.js tensors. TensorFlow.js is never a
 * dependency: it is described here by the few members used, and loaded with a dynamic import
 * only when a conversion needs to create tfjs tensors.
 *
 * @example
 * const weights = model.getWeights().map(fromTfjs);
 * model.setWeights(await Promise.all(weights.map((w) => toTfjs(w))));
 */
import { LarderError } from '@larder/protocol';
import type { DType } from './dtypes.js';
import { fromFloat16Bits } from './float16.js';
import { type Tensor, tensor } from './tensor.js';

/** The part of a tfjs tensor that conversions read. */
export interface TfjsTensorLike {
  readonly shape: readonly number[];
  readonly dtype: string;
  dataSync(): ArrayLike<number>;
}

/** The part of a tfjs `LayersModel` that saving and loading weights use. */
export interface TfjsModelLike {
  getWeights(): TfjsTensorLike[];
  setWeights(weights: TfjsTensorLike[]): void;
  readonly weights?: readonly { readonly name: string; readonly originalName?: string }[];
}

/** The part of the `@tensorflow/tfjs` module that conversions call. */
export interface TfjsModule {
  tensor(values: ArrayLike<number>, shape: number[], dtype: 'float32' | 'int32' | 'bool'): TfjsTensorLike;
  readonly version?: Readonly<Record<string, string>>;
  readonly version_core?: string;
}

const TFJS_PACKAGES = ['@tensorflow/tfjs', '@tensorflow/tfjs-node', '@tensorflow/tfjs-core'];
let loading: Promise<TfjsModule | undefined> | undefined;

/** The TensorFlow.js module the application has installed, or undefined when there is none. */
export function loadTfjs(): Promise<TfjsModule | undefined> {
  loading ??= (async () => {
    for (const name of TFJS_PACKAGES) {
      try {
        return (await import(name)) as TfjsModule;
      } catch {
        // Not installed: try the next package.
      }
    }
    return undefined;
  })();
  return loading;
}

/** The version of the loaded TensorFlow.js, or undefined without one. */
export function tfjsVersion(tf: TfjsModule): string | undefined {
  return tf.version?.['tfjs-core'] ?? tf.version?.tfjs ?? tf.version_core;
}

export function isTfjsTensor(value: unknown): value is TfjsTensorLike {
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as Partial<TfjsTensorLike>;
  return (
    typeof candidate.dataSync === 'function' && Array.isArray(candidate.shape) && typeof candidate.dtype === 'string'
  );
}

export function isTfjsModel(value: unknown): value is TfjsModelLike {
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as Partial<TfjsModelLike>;
  return typeof candidate.getWeights === 'function' && typeof candidate.setWeights === 'function';
}

/** A copy of a tfjs tensor's values as a stock tensor (float32, int32 or bool). */
export function fromTfjs(t: TfjsTensorLike): Tensor {
  const values = t.dataSync();
  const shape = [...t.shape];
  switch (t.dtype) {
    case 'float32':
      return tensor(Float32Array.from(values), shape, 'float32');
    case 'int32':
      return tensor(Int32Array.from(values), shape, 'int32');
    case 'bool':
      return tensor(Uint8Array.from(values), shape, 'bool');
    default:
      throw new LarderError(
        'BadRequest',
        `TensorFlow.js ${t.dtype} tensors cannot be stored: convert to float32 first`,
      );
  }
}

/**
 * A tfjs tensor with the values of `t`. tfjs holds only float32, int32 and bool, so float16 and
 * float64 become float32, and the integer dtypes int32 (refused when a value does not fit).
 */
export async function toTfjs(t: Tensor, tf?: TfjsModule): Promise<TfjsTensorLike> {
  const module = tf ?? (await loadTfjs());
  if (module === undefined) {
    throw new LarderError(
      'NotImplemented',
      'Install @tensorflow/tfjs to convert stock tensors to TensorFlow.js tensors',
    );
  }
  const [values, shape, dtype] = tfjsValues(t);
  return module.tensor(values, shape, dtype);
}

function tfjsValues(t: Tensor): [ArrayLike<number>, number[], 'float32' | 'int32' | 'bool'] {
  const shape = [...t.shape];
  const dtype: DType = t.dtype;
  switch (dtype) {
    case 'float32':
    case 'int32':
      return [t.data as Float32Array, shape, dtype];
    case 'bool':
      return [t.data as Uint8Array, shape, 'bool'];
    case 'float64':
      return [Float32Array.from(t.data as Float64Array), shape, 'float32'];
    case 'float16':
      return [Float32Array.from(t.data as Uint16Array, fromFloat16Bits), shape, 'float32'];
    case 'int8':
    case 'int16':
    case 'uint8':
    case 'uint16':
      return [Int32Array.from(t.data as Int16Array), shape, 'int32'];
    default:
      return [narrowToInt32(t), shape, 'int32'];
  }
}

function narrowToInt32(t: Tensor): Int32Array {
  const out = new Int32Array(t.data.length);
  for (let i = 0; i < t.data.length; i++) {
    const value = Number(t.data[i]);
    if (value > 2147483647 || value < -2147483648) {
      throw new LarderError('BadRequest', `A ${t.dtype} value (${t.data[i]}) does not fit TensorFlow.js int32`);
    }
    out[i] = value;
  }
  return out;
}
