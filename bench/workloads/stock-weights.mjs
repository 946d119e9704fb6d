/**
 * Model weights for the stock workload: `layers` float32 tensors of equal size, each with
 * its own values (a cheap formula, so generating 500 MiB costs well under a second per
 * 100 MiB), and a retrained copy of one of them.
 */

const COLUMNS = 256;

function layer(tensor, index, elements, offset) {
  const data = new Float32Array(elements);
  for (let j = 0; j < elements; j += 1) data[j] = ((j * 7919 + index * 104_729 + offset) % 1_000_003) / 1_000_003 - 0.5;
  return tensor(data, [elements / COLUMNS, COLUMNS]);
}

/**
 * @param {(data: Float32Array, shape: number[]) => unknown} tensor `@larder/stock`'s `tensor`
 * @returns {Record<string, unknown>} `layer_<i>/kernel` → tensor
 */
export function makeWeights(tensor, layers, layerBytes) {
  const elements = layerBytes / 4;
  if (!Number.isInteger(elements / COLUMNS)) throw new Error(`A layer of ${layerBytes} bytes is not whole rows`);
  const weights = {};
  for (let index = 0; index < layers; index += 1) weights[`layer_${index}/kernel`] = layer(tensor, index, elements, 0);
  return weights;
}

/** `weights` with layer `index` given new values. */
export function retrainLayer(tensor, weights, index, layerBytes) {
  return { ...weights, [`layer_${index}/kernel`]: layer(tensor, index, layerBytes / 4, 17) };
}
