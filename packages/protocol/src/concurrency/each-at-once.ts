/**
 * Runs `work` over `items` with at most `width` calls in flight, in order of the items.
 * Once a call fails no new one starts; the promise rejects with the first failure after the
 * calls already running have settled, so a caller's cleanup (closing a pool, a file) never
 * races work still under way. Answers the results in the items' order.
 *
 * @example
 * const sizes = await eachAtOnce(paths, 4, async (path) => (await stat(path)).size);
 */
export async function eachAtOnce<T, R>(
  items: readonly T[],
  width: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  const lanes = Math.max(1, Math.min(Math.floor(width) || 1, items.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  if (failure !== undefined) throw failure.error;
  return results;
}
