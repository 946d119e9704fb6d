/**
 * Work over items that arrive one by one (the files of an archive as it streams in), a few
 * at a time: the next item is taken while earlier ones are still being written.
 */

/**
 * Runs `work` on each item as `items` yields it, at most `limit` at once. Stops taking items
 * at the first failure, and settles (rethrowing that failure, or the iteration's own) only
 * once no work is running, so a caller retrying sees every finished item counted.
 *
 * @example
 * await forEachAtOnce(tarEntries(response.body), 16, (entry) => writeFile(entry.name, entry.bytes));
 */
export async function forEachAtOnce<T>(items: AsyncIterable<T>, limit: number, work: (item: T) => Promise<void>) {
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  try {
    for await (const item of items) {
      const task: Promise<void> = work(item)
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .then(() => {
          running.delete(task);
        });
      running.add(task);
      if (running.size >= limit) await Promise.race(running);
      if (failure) break;
    }
  } finally {
    await Promise.all(running);
  }
  if (failure) throw failure.error;
}
