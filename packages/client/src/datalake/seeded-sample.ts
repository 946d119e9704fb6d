/**
 * A reproducible random fraction of a list: the same seed picks the same items, in the
 * order they were given.
 *
 * @example
 * seededSample(['a', 'b', 'c', 'd'], 0.5, 42) // two of the four, the same two every time
 */
export function seededSample<T>(items: readonly T[], fraction: number, seed: number): T[] {
  if (!(fraction > 0)) return [];
  if (fraction >= 1) return [...items];
  const count = Math.round(items.length * fraction);
  const random = mulberry32(seed);
  const indexes = items.map((_, index) => index);
  // A partial Fisher-Yates shuffle picks `count` distinct indexes.
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (indexes.length - i));
    [indexes[i], indexes[j]] = [indexes[j] as number, indexes[i] as number];
  }
  return indexes
    .slice(0, count)
    .sort((a, b) => a - b)
    .map((index) => items[index] as T);
}

/** A small, well-distributed 32-bit generator. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
