/**
 * Which small packs to merge. Every batch commit makes a pack of its own, so a folder fed
 * thousands of small forms (~150 files, well under a MiB each) would hold thousands of pack
 * files; once enough small packs gather, the oldest are merged into one, up to the size of the
 * largest pack a commit makes. A merged pack still small takes part in later merges, so each
 * byte is copied a few times at most (the merged size grows sixteenfold a round).
 */

export interface MergeLimits {
  /** A pack under this many bytes counts as small. */
  smallPackBytes: number;
  /** Small packs are merged once there are at least this many. */
  mergeAt: number;
  /** The most live bytes one merge copies into its pack. */
  mergedPackBytes: number;
  /** The most small packs one merge looks at (and so holds descriptors of, one at a time). */
  packsPerMerge: number;
}

export const MERGE_LIMITS: MergeLimits = {
  smallPackBytes: 16 * 1024 * 1024,
  mergeAt: 16,
  // The most a batch packs in one commit (`packBytesPerBatch`'s default).
  mergedPackBytes: 64 * 1024 * 1024,
  packsPerMerge: 4096,
};

/**
 * The packs of `small` (oldest first) that one merge takes: none while fewer than `mergeAt`,
 * else the oldest whose live bytes fit in `mergedPackBytes`, at least two.
 *
 * @example
 * packsToMerge(smallPacks) // [3, 4, 7, ...]: copy these into one new pack
 */
export function packsToMerge(
  small: readonly { id: number; live: number }[],
  limits: MergeLimits = MERGE_LIMITS,
): number[] {
  if (small.length < limits.mergeAt) return [];
  const chosen: number[] = [];
  let bytes = 0;
  for (const pack of small) {
    if (bytes + pack.live > limits.mergedPackBytes) break;
    chosen.push(pack.id);
    bytes += pack.live;
  }
  return chosen.length >= 2 ? chosen : [];
}
