/**
 * Server-side downsampling for charts: at most `target` points, chosen so that extremes stay
 * visible. The series is cut into `target / 2` buckets of consecutive points and each
 * bucket keeps its lowest and its highest value (in their order), plus the very first and
 * last points of the series: a spike of one point in a million still shows.
 *
 * @example
 * const picked = minMaxIndexes(values, 2000); // indexes into the series, ascending
 */
export function minMaxIndexes(values: Float64Array, target: number): Uint32Array {
  const count = values.length;
  if (count <= target) return Uint32Array.from({ length: count }, (_, index) => index);
  // Fewer than four points cannot hold the ends and one bucket's extremes.
  const room = Math.max(4, target);
  const buckets = Math.floor((room - 2) / 2);
  const picked = new Uint32Array(buckets * 2 + 2);
  let size = 0;
  picked[size++] = 0;
  let last = 0;
  for (let bucket = 0; bucket < buckets; bucket += 1) {
    const start = 1 + Math.floor((bucket * (count - 2)) / buckets);
    const end = 1 + Math.floor(((bucket + 1) * (count - 2)) / buckets);
    let low = -1;
    let high = -1;
    for (let index = start; index < end; index += 1) {
      const value = values[index] as number;
      if (Number.isNaN(value)) continue;
      if (low < 0 || value < (values[low] as number)) low = index;
      if (high < 0 || value > (values[high] as number)) high = index;
    }
    if (low < 0) {
      if (start < end) low = start;
      else continue;
    }
    const first = high >= 0 ? Math.min(low, high) : low;
    const second = high >= 0 ? Math.max(low, high) : low;
    if (first > last) picked[size++] = last = first;
    if (second > last) picked[size++] = last = second;
  }
  if (count - 1 > last) picked[size++] = count - 1;
  return picked.subarray(0, size);
}

/** The chosen entries of a column. */
export function pick(column: Float64Array, indexes: Uint32Array): number[] {
  const out = new Array<number>(indexes.length);
  for (let index = 0; index < indexes.length; index += 1) out[index] = column[indexes[index] as number] as number;
  return out;
}
