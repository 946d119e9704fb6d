/**
 * Columns of samples: each sample a tensor of any shape, keyed by its name; every sample in
 * a column has the column's dtype (fixed by its first sample).
 *
 * @example
 * await stock.data.set('images', 'cat-001', tensor(pixels, [28, 28], 'uint8'));
 * const image = await stock.data.get('images', 'cat-001');
 */
import { LarderError } from '@larder/protocol';
import { dataStorage } from '../commits/commit-record.js';
import { assertStockName } from '../stock-names.js';
import type { DType } from '../tensor/dtypes.js';
import { isTensor, type Tensor } from '../tensor/tensor.js';
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

export function asTensor(value: Tensor | TfjsTensorLike): Tensor {
  if (isTensor(value)) return value;
  if (isTfjsTensor(value)) return fromTfjs(value);
  throw new LarderError('BadRequest', 'Expected a stock tensor (see tensor()) or a TensorFlow.js tensor');
}
