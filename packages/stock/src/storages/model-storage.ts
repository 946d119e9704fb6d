/**
 * Model weights: a name → tensor map or an ordered list of tensors (a tfjs model's weights),
 * restored with the same names, shapes and dtypes. Each tensor is its own object, so a layer
 * that did not change between two saves is stored once. A small manifest object records the
 * order, the layout and the framework with its version.
 *
 * @example
 * await stock.model.saveWeights('mnist', model);        // a tfjs LayersModel
 * await stock.commit('first training run');
 * await stock.model.loadWeights('mnist', freshModel);   // puts the weights back
 */
import { LarderError } from '@larder/protocol';
import { readSafetensorsFile, writeSafetensorsFile } from '../safetensors/safetensors-file.js';
import { assertStockName } from '../stock-names.js';
import { type DType, isDType } from '../tensor/dtypes.js';
import { isTensor, type Tensor } from '../tensor/tensor.js';
import {
  isTfjsModel,
  isTfjsTensor,
  loadTfjs,
  type TfjsModelLike,
  type TfjsTensorLike,
  tfjsVersion,
  toTfjs,
} from '../tensor/tfjs-bridge.js';
import type { TreeView } from '../tree-view.js';
import { asTensor } from './data-storage.js';
import type { StockAccess } from './stock-access.js';

type WeightValue = Tensor | TfjsTensorLike;

/** What `saveWeights` accepts. */
export type Weights =
  | TfjsModelLike
  | readonly WeightValue[]
  | ReadonlyMap<string, WeightValue>
  | Readonly<Record<string, WeightValue>>;

export interface SaveWeightsOptions {
  /** Recorded with the weights; detected for TensorFlow.js models and tensors. */
  framework?: string;
  frameworkVersion?: string;
}

export interface ModelInfo {
  name: string;
  framework: string;
  frameworkVersion: string;
  /** `list` for an ordered list (loads back as an array), `map` for named tensors. */
  layout: 'map' | 'list';
  tensors: { name: string; dtype: DType; shape: number[] }[];
}

interface ModelManifest extends Omit<ModelInfo, 'name' | 'tensors'> {
  tensors: { name: string; hash: string; dtype: DType; shape: number[] }[];
}

const STORAGE = 'model';

export class ModelStorage {
  readonly #access: StockAccess;

  constructor(access: StockAccess) {
    this.#access = access;
  }

  /** Stages a model's weights under `name`. */
  async saveWeights(name: string, weights: Weights, options: SaveWeightsOptions = {}): Promise<ModelInfo> {
    assertStockName('model', name);
    const { entries, layout, tfjs } = collect(weights);
    let { framework, frameworkVersion } = options;
    if (tfjs && framework === undefined) {
      framework = 'tfjs';
      const tf = await loadTfjs();
      frameworkVersion ??= tf === undefined ? undefined : tfjsVersion(tf);
    }
    return this.#save(name, entries, layout, framework ?? 'unspecified', frameworkVersion ?? '');
  }

  /**
   * The weights saved under `name`: an array for a list, an object for named tensors. Given a
   * TensorFlow.js model, sets its weights instead (in saved order).
   */
  loadWeights(name: string): Promise<Tensor[] | Record<string, Tensor>>;
  loadWeights(name: string, model: TfjsModelLike): Promise<undefined>;
  async loadWeights(name: string, model?: TfjsModelLike): Promise<Tensor[] | Record<string, Tensor> | undefined> {
    const { manifest, tensors } = await this.#load(name);
    if (model !== undefined) {
      const converted = await Promise.all(tensors.map((t) => toTfjs(t)));
      try {
        model.setWeights(converted);
      } catch (cause) {
        throw new LarderError('BadRequest', `Model "${name}" does not fit this model: ${(cause as Error).message}`, {
          cause,
        });
      } finally {
        for (const t of converted) (t as { dispose?: () => void }).dispose?.();
      }
      return undefined;
    }
    if (manifest.layout === 'list') return tensors;
    return Object.fromEntries(manifest.tensors.map((entry, i) => [entry.name, tensors[i] as Tensor]));
  }

  /** The weights in saved order, whatever the layout. */
  async loadWeightList(name: string): Promise<Tensor[]> {
    return (await this.#load(name)).tensors;
  }

  /** The weights by tensor name, whatever the layout. */
  async loadWeightMap(name: string): Promise<Map<string, Tensor>> {
    const { manifest, tensors } = await this.#load(name);
    return new Map(manifest.tensors.map((entry, i) => [entry.name, tensors[i] as Tensor]));
  }

  /** Framework, layout, tensor names, dtypes and shapes, without reading the weights. */
  async describe(name: string): Promise<ModelInfo> {
    assertStockName('model', name);
    return this.#access.read(async (view) => info(name, await readManifest(view, name)));
  }

  async has(name: string): Promise<boolean> {
    assertStockName('model', name);
    return this.#access.read(async (view) => view.lookup(STORAGE, name) !== undefined);
  }

  /** Stages the removal of a model; false when there was none. */
  async delete(name: string): Promise<boolean> {
    assertStockName('model', name);
    return this.#access.write(async (view) => {
      if (view.lookup(STORAGE, name) === undefined) return false;
      view.stage(STORAGE, name, null);
      return true;
    });
  }

  async keys(): Promise<string[]> {
    return this.#access.read(async (view) => view.keys(STORAGE));
  }

  /**
   * Writes a model's weights to a `.safetensors` file, with the framework, layout and order in
   * its `__metadata__`.
   */
  async exportSafetensors(name: string, path: string): Promise<void> {
    const { manifest, tensors } = await this.#load(name);
    const map = new Map(manifest.tensors.map((entry, i) => [entry.name, tensors[i] as Tensor]));
    await writeSafetensorsFile(path, map, {
      framework: manifest.framework,
      framework_version: manifest.frameworkVersion,
      'larder.layout': manifest.layout,
      'larder.order': JSON.stringify(manifest.tensors.map((entry) => entry.name)),
    });
  }

  /** Stages the weights of a `.safetensors` file under `name` (a list when the file says so). */
  async importSafetensors(name: string, path: string, options: SaveWeightsOptions = {}): Promise<ModelInfo> {
    assertStockName('model', name);
    const { tensors, metadata } = await readSafetensorsFile(path);
    const order = savedOrder(metadata['larder.order'], tensors);
    for (const key of order) assertStockName('tensor', key);
    const entries = order.map((key): [string, Tensor] => [key, tensors.get(key) as Tensor]);
    const layout = metadata['larder.layout'] === 'list' ? 'list' : 'map';
    return this.#save(
      name,
      entries,
      layout,
      options.framework ?? metadata.framework ?? 'safetensors',
      options.frameworkVersion ?? metadata.framework_version ?? '',
    );
  }

  async #save(
    name: string,
    entries: [string, Tensor][],
    layout: 'map' | 'list',
    framework: string,
    frameworkVersion: string,
  ): Promise<ModelInfo> {
    return this.#access.write(async (view) => {
      const manifest: ModelManifest = { framework, frameworkVersion, layout, tensors: [] };
      for (const [tensorName, t] of entries) {
        const hash = await view.objects.putTensor(t);
        manifest.tensors.push({ name: tensorName, hash, dtype: t.dtype, shape: [...t.shape] });
      }
      view.stage(STORAGE, name, await view.objects.putJson('model', manifest));
      return info(name, manifest);
    });
  }

  async #load(name: string): Promise<{ manifest: ModelManifest; tensors: Tensor[] }> {
    assertStockName('model', name);
    return this.#access.read(async (view) => {
      const manifest = await readManifest(view, name);
      const tensors = await Promise.all(manifest.tensors.map((entry) => view.objects.getTensor(entry.hash)));
      return { manifest, tensors };
    });
  }
}

function collect(weights: Weights): { entries: [string, Tensor][]; layout: 'map' | 'list'; tfjs: boolean } {
  if (isTfjsModel(weights)) {
    const values = weights.getWeights();
    const names = weights.weights?.map((w) => w.originalName ?? w.name) ?? [];
    const unique = names.length === values.length && new Set(names).size === names.length;
    return {
      entries: values.map((value, i) => [unique ? (names[i] as string) : String(i), asTensor(value)]),
      layout: 'list',
      tfjs: true,
    };
  }
  let pairs: [string, unknown][];
  let layout: 'map' | 'list' = 'map';
  if (Array.isArray(weights)) {
    pairs = weights.map((value, i) => [String(i), value]);
    layout = 'list';
  } else if (weights instanceof Map) {
    pairs = [...weights.entries()];
  } else if (weights !== null && typeof weights === 'object') {
    pairs = Object.entries(weights);
  } else {
    throw new LarderError('BadRequest', 'Weights must be a TensorFlow.js model, a list of tensors or named tensors');
  }
  const entries = pairs.map(([key, value]): [string, Tensor] => {
    assertStockName('tensor', key);
    if (!isTensor(value) && !isTfjsTensor(value)) {
      throw new LarderError('BadRequest', `Weight "${key}" is neither a stock tensor nor a TensorFlow.js tensor`);
    }
    return [key, asTensor(value)];
  });
  return { entries, layout, tfjs: pairs.some(([, value]) => !isTensor(value)) };
}

async function readManifest(view: TreeView, name: string): Promise<ModelManifest> {
  const hash = view.lookup(STORAGE, name);
  if (hash === undefined) throw new LarderError('NotFound', `No model "${name}" in this stock commit`);
  const manifest = (await view.objects.getJson('model', hash)) as Partial<ModelManifest> | null;
  const valid =
    manifest !== null &&
    typeof manifest.framework === 'string' &&
    typeof manifest.frameworkVersion === 'string' &&
    (manifest.layout === 'map' || manifest.layout === 'list') &&
    Array.isArray(manifest.tensors) &&
    manifest.tensors.every((t) => typeof t.name === 'string' && typeof t.hash === 'string' && isDType(t.dtype));
  if (!valid)
    throw new LarderError('Unprocessable', `The manifest of model "${name}" (${hash.slice(0, 12)}) is invalid`);
  return manifest as ModelManifest;
}

function info(name: string, manifest: ModelManifest): ModelInfo {
  const { framework, frameworkVersion, layout } = manifest;
  const tensors = manifest.tensors.map(({ name: tensorName, dtype, shape }) => ({ name: tensorName, dtype, shape }));
  return { name, framework, frameworkVersion, layout, tensors };
}

function savedOrder(recorded: string | undefined, tensors: ReadonlyMap<string, Tensor>): string[] {
  if (recorded !== undefined) {
    try {
      const order = JSON.parse(recorded) as unknown;
      if (
        Array.isArray(order) &&
        order.length === tensors.size &&
        new Set(order).size === order.length &&
        order.every((key) => typeof key === 'string' && tensors.has(key))
      ) {
        return order as string[];
      }
    } catch {
      // A foreign or damaged order: fall back to the order of the data in the file.
    }
  }
  return [...tensors.keys()];
}
