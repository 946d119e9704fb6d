/**
 * The documents and query parameters both servers receive, generated from fixed seeds so
 * every run, and every server in a run, sees exactly the same data.
 */

/** mulberry32: a small seeded PRNG answering floats in [0, 1). */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const GROUPS = 10;

/** Zero-padded so that string order is index order: a threshold on `name` is a range. */
export function documentName(index) {
  return `doc-${String(index).padStart(6, '0')}`;
}

/** A seeded shuffle of 0..count-1. */
function permutation(count, random) {
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * Scores are a shuffled grid (k / count) rather than raw floats: they look random, never
 * tie (so a sorted page has one right answer), and stay short, which keeps a batch of
 * 1,000 under the 100 kB JSON body limit the Marcelle backend ships with.
 * @param {number} count
 * @returns {{ name: string, score: number, group: string, tags: string[], nested: { x: number } }[]}
 */
export function makeDocuments(count, seed = 1) {
  const random = seededRandom(seed);
  const scores = permutation(count, random);
  const documents = [];
  for (let i = 0; i < count; i++) {
    documents.push({
      name: documentName(i),
      score: (scores[i] ?? 0) / count,
      group: `g${i % GROUPS}`,
      tags: [`t${i % 7}`, i % 2 === 0 ? 'even' : 'odd'],
      nested: { x: i },
    });
  }
  return documents;
}

/** Splits a list into consecutive batches of `size`. */
export function inBatches(items, size) {
  const batches = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  return batches;
}
