/**
 * Small samples for the stock workload: `count` uint8 pictures of 28×28 (784 bytes, MNIST's
 * size), each with its own bytes (a cheap formula), so that none is stored once for two.
 */

export const SAMPLE_SHAPE = [28, 28];
export const SAMPLE_BYTES = 784;

/** The bytes of sample `index`: distinct for every index below 2^32. */
export function sampleBytes(index) {
  const bytes = new Uint8Array(SAMPLE_BYTES);
  let state = (index * 2_654_435_761 + 1) >>> 0;
  for (let j = 0; j < SAMPLE_BYTES; j += 1) {
    state = (state * 1_103_515_245 + 12_345) >>> 0;
    bytes[j] = state >>> 24;
  }
  new DataView(bytes.buffer).setUint32(0, index, true);
  return bytes;
}

export const sampleName = (index) => `sample-${String(index).padStart(7, '0')}`;
