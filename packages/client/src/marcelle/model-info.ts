/**
 * `conformDict` and `getModelInfo`: the TypeScript counterparts of the Python client's
 * helpers, producing the `model` section of a Marcelle run.
 */
import type { TfjsLayersModel } from './tfjs-types.js';

export interface ModelInfo {
  name: string;
  param_count: { total: number; trainable: number; non_trainable: number };
  summary: string;
  layers: { layer_n: number; name: string; input_shape: unknown; output_shape: unknown }[];
  loss: string;
}

/**
 * A value made JSON-safe the way Marcelle expects: typed arrays become arrays, bigints
 * numbers, non-finite numbers `null`, dates ISO strings, nested objects and arrays likewise.
 *
 * @example
 * conformDict({ loss: new Float32Array([0.5]), steps: 10n }) // { loss: [0.5], steps: 10 }
 */
export function conformDict<T>(value: T): T {
  return conform(value, 0) as T;
}

function conform(value: unknown, depth: number): unknown {
  if (depth > 64) return null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (value instanceof Date) return value.toISOString();
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number | bigint>, (each) => conform(each, depth + 1));
  }
  if (Array.isArray(value)) return value.map((each) => conform(each, depth + 1));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, field]) => field !== undefined && typeof field !== 'function')
        .map(([key, field]) => [key, conform(field, depth + 1)]),
    );
  }
  return value;
}

const sizeOf = (shape: number[]) => shape.reduce((product, each) => product * each, 1);

function lossName(loss: unknown): string | undefined {
  if (typeof loss === 'string') return loss;
  if (typeof loss === 'function' && loss.name) return loss.name;
  if (Array.isArray(loss)) return loss.map(lossName).join(', ');
  return undefined;
}

/**
 * Layers, parameter counts, the printed summary and the loss of a tfjs LayersModel.
 *
 * @example
 * const info = getModelInfo(model, 'meanSquaredError');
 * info.param_count.total; // 17
 */
export function getModelInfo(model: TfjsLayersModel, loss?: unknown): ModelInfo {
  const trainable = model.trainableWeights.reduce((total, weight) => total + sizeOf(weight.shape), 0);
  const nonTrainable = model.nonTrainableWeights.reduce((total, weight) => total + sizeOf(weight.shape), 0);
  const lines: string[] = [];
  model.summary(undefined, undefined, (message) => lines.push(String(message ?? '')));
  return {
    name: model.name,
    param_count: { total: trainable + nonTrainable, trainable, non_trainable: nonTrainable },
    summary: lines.join('\n'),
    layers: model.layers.map((layer, index) => ({
      layer_n: index,
      name: layer.name,
      // A layer's input is what the previous one outputs; the first knows its own.
      input_shape: conformDict(index === 0 ? (layer.batchInputShape ?? null) : model.layers[index - 1]?.outputShape),
      output_shape: conformDict(layer.outputShape),
    })),
    loss: lossName(loss) ?? lossName(model.loss) ?? 'Unknown',
  };
}
