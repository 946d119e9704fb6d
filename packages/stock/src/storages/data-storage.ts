/**
 * Columns of samples: each sample a tensor of any shape, keyed by its name; every sample in
 * a column has the column's dtype (fixed by its first sample).
 *
 * @example
 * await stock.data.set('images', 'cat-001', tensor(pixels, [28, 28], 'uint8'));
 * await stock.data.setMany('images', [['cat-002', a], ['cat-003', b]]); // many at once
 * const image = await stock.data.get('images', 'cat-001');
 */
import { LarderError } from '@larder/protocol';
import { dataStorage } from '../commits/commit-record.js';
import { assertStockName } from '../stock-names.js';
import { DTYPES, type DType } from '../tensor/dtypes.js';
import { assertShape, isTensor, type Tensor } from '../tensor/tensor.js';
import { fromTfjs, isTfjsTensor, type TfjsTensorLike } from '../tensor/tfjs-bridge.js';
import type { StockAccess } from './stock-access.js';

export class DataStorage {
  readonly #access: StockAccess;

  constructor(access: StockAccess) {
    this.#access = access;
  }

  /** Stages a sample; a tfjs tensor is copied to a stock tensor first. */
  async set(column: string, sample: string, value: Tensor | TfjsTensorLike): Promise<void> {
    assertStockName('column', column);
    assertStockName('sample', sample);
    const t = asTensor(value);
    await this.#access.write(async (view) => {
      const dtype = view.columnDType(column);
      if (dtype !== undefined && dtype !== t.dtype) {
        throw new LarderError(
          'BadRequest',
          `Column "${column}" holds ${dtype} samples; "${sample}" is ${t.dtype}. Convert it, or use another column`,
        );
      }
      const hash = await view.objects.putTensor(t);
      if (dtype === undefined) view.stageColumn(column, t.dtype);
      view.stage(dataStorage(column), sample, hash);
    });
  }

  /**
   * Stages many samples of one column at once: the same result as calling `set` for each,
   * with one promise and one pass for the lot (much less work per sample for thousands of
   * small samples). `samples` is a Map, an iterable of `[name, tensor]` pairs or a plain
   * object of name → tensor. Everything is checked before anything is written (names, tensors,
   * one dtype for the batch and the column, no name twice), so a refused batch stages nothing
   * and leaves what was staged before as it was.
   *
   * @example
   * await stock.data.setMany('images', images.map((pixels, i) => [`cat-${i}`, tensor(pixels, [28, 28], 'uint8')]));
   */
  async setMany(column: string, samples: SampleBatch): Promise<void> {
    assertStockName('column', column);
    const names: string[] = [];
    const tensors: Tensor[] = [];
    const seen = new Set<string>();
    const entries = batchEntries(samples);
    for (let index = 0; index < entries.length; index += 1) {
      const entry = entries[index];
      if (!Array.isArray(entry) || entry.length !== 2) {
        throw new LarderError('BadRequest', 'Each entry given to setMany is a [sample name, tensor] pair');
      }
      const [sample, value] = entry as [unknown, Tensor | TfjsTensorLike];
      assertStockName('sample', sample);
      if (seen.has(sample)) {
        throw new LarderError(
          'BadRequest',
          `Sample "${sample}" is given twice in one setMany call on column "${column}": give each sample once`,
        );
      }
      seen.add(sample);
      names.push(sample);
      tensors.push(asTensor(value));
    }
    const first = tensors[0];
    if (first === undefined) return;
    for (let index = 1; index < tensors.length; index += 1) {
      const t = tensors[index] as Tensor;
      if (t.dtype !== first.dtype) {
        throw new LarderError(
          'BadRequest',
          `Samples of one column share a dtype: "${names[0]}" is ${first.dtype}, "${names[index]}" is ${t.dtype}. Convert it, or use another column`,
        );
      }
    }
    await this.#access.write(async (view) => {
      const dtype = view.columnDType(column);
      if (dtype !== undefined && dtype !== first.dtype) {
        throw new LarderError(
          'BadRequest',
          `Column "${column}" holds ${dtype} samples; "${names[0]}" and the rest of this batch are ${first.dtype}. Convert them, or use another column`,
        );
      }
      const hashes = await view.objects.putTensors(tensors);
      if (dtype === undefined) view.stageColumn(column, first.dtype);
      view.stageMany(dataStorage(column), names, hashes);
    });
  }

  async get(column: string, sample: string): Promise<Tensor> {
    assertStockName('column', column);
    assertStockName('sample', sample);
    return this.#access.read((view) => {
      const hash = view.lookup(dataStorage(column), sample);
      if (hash === undefined) {
        throw new LarderError('NotFound', `No sample "${sample}" in data column "${column}" of this stock commit`);
      }
      return view.objects.getTensor(hash);
    });
  }

  async has(column: string, sample: string): Promise<boolean> {
    assertStockName('column', column);
    assertStockName('sample', sample);
    return this.#access.read(async (view) => view.lookup(dataStorage(column), sample) !== undefined);
  }

  /** Stages the removal of a sample; false when there was none. */
  async delete(column: string, sample: string): Promise<boolean> {
    assertStockName('column', column);
    assertStockName('sample', sample);
    return this.#access.write(async (view) => {
      if (view.lookup(dataStorage(column), sample) === undefined) return false;
      view.stage(dataStorage(column), sample, null);
      return true;
    });
  }

  /** Sample names of a column, sorted. */
  async keys(column: string): Promise<string[]> {
    assertStockName('column', column);
    return this.#access.read(async (view) => view.keys(dataStorage(column)));
  }

  /** Columns holding at least one sample, sorted. */
  async columns(): Promise<string[]> {
    return this.#access.read(async (view) => view.columns());
  }

  /** The dtype of a column, or undefined when it holds no samples. */
  async dtype(column: string): Promise<DType | undefined> {
    assertStockName('column', column);
    return this.#access.read(async (view) => view.columnDType(column));
  }
}

/** Samples for `setMany`: a Map, `[name, tensor]` pairs, or a plain object of name → tensor. */
export type SampleBatch =
  | Iterable<readonly [string, Tensor | TfjsTensorLike]>
  | Readonly<Record<string, Tensor | TfjsTensorLike>>;

/** A stock tensor whose data is its dtype's typed array and fills its shape; a tfjs tensor is copied. */
export function asTensor(value: Tensor | TfjsTensorLike): Tensor {
  if (isTensor(value)) {
    const data = value.data;
    if (data instanceof DTYPES[value.dtype].array && fillsShape(value.shape, data.length)) return value;
    if (!(data instanceof DTYPES[value.dtype].array)) {
      throw new LarderError(
        'BadRequest',
        `A ${value.dtype} tensor holds its elements in a ${DTYPES[value.dtype].array.name}, not a ${data.constructor.name}: build it with tensor()`,
      );
    }
    assertShape(value.shape, data.length);
    return value;
  }
  if (isTfjsTensor(value)) return fromTfjs(value);
  throw new LarderError('BadRequest', 'Expected a stock tensor (see tensor()) or a TensorFlow.js tensor');
}

/** Whether `shape` lists non-negative integers whose product is `length` (`assertShape` says what is wrong). */
function fillsShape(shape: readonly number[], length: number): boolean {
  let count = 1;
  for (let index = 0; index < shape.length; index += 1) {
    const dim = shape[index] as number;
    if (!Number.isSafeInteger(dim) || dim < 0) return false;
    count *= dim;
  }
  return count === length;
}

/** The entries of a batch, each still to be checked: a [name, tensor] pair. */
function batchEntries(samples: SampleBatch): readonly unknown[] {
  if (samples === null || typeof samples !== 'object') {
    throw new LarderError('BadRequest', 'setMany takes a Map, [sample, tensor] pairs or an object of sample → tensor');
  }
  if (Array.isArray(samples)) return samples;
  if (Symbol.iterator in samples) return [...(samples as Iterable<unknown>)];
  return Object.entries(samples);
}
