/**
 * Looking object ids up in a repository's packs: in the entries this process verified (a map
 * lookup), else by a search of the pack's index. Callers pass only the asking repository's
 * packs, so another repository's objects are never found.
 */
import type { PackEntries } from './stock-pack-entries.js';
import { findIdInPackIndex, rawId } from './stock-pack-format.js';

export interface SearchedPack {
  pack: string;
  /** The pack's entries when this process verified it. */
  entries: PackEntries | undefined;
  /** Otherwise the index this server wrote of it. */
  index: Buffer | undefined;
}

/** Where a pack holds an object: `entry` is its number among the pack's entries, or -1 when found by the index. */
export type PackHit = (hash: string, at: number, entry: number, offset: number, length: number) => void;

/**
 * Looks each of `hashes` up in `packs`, in order; the first pack that holds it answers
 * (`onFound` with that pack's position in `packs`), else `onAbsent`.
 */
export function searchPacks(
  packs: readonly SearchedPack[],
  hashes: Iterable<string>,
  onFound: PackHit,
  onAbsent?: (hash: string) => void,
): void {
  const id = Buffer.alloc(32);
  for (const hash of hashes) {
    // The hash is converted once, whatever the number of packs searched through their index.
    let converted = false;
    let held = false;
    for (let at = 0; at < packs.length; at += 1) {
      const { entries, index } = packs[at] as SearchedPack;
      if (entries) {
        const entry = entries.indexOf(hash);
        if (entry < 0) continue;
        onFound(hash, at, entry, entries.offsetOf(entry), entries.lengthOf(entry));
      } else {
        if (!converted && !rawId(hash, id)) break;
        converted = true;
        const found = findIdInPackIndex(index as Buffer, id);
        if (!found) continue;
        onFound(hash, at, -1, found.offset, found.length);
      }
      held = true;
      break;
    }
    if (!held) onAbsent?.(hash);
  }
}

/**
 * How many of `hashes` `packs` hold and their bytes, each object counted once however often
 * it is named, and the hashes they do not hold (each once): what a ref move checks, without a
 * location per object or a set of the hashes.
 */
export function measurePacks(
  packs: readonly SearchedPack[],
  hashes: Iterable<string>,
): { objects: number; bytes: number; absent: string[] } {
  // What was counted, per pack: its entries' numbers when verified here, else their offsets.
  const counted = packs.map(({ entries }) => (entries ? new Uint8Array(entries.listed) : new Set<number>()));
  let objects = 0;
  let bytes = 0;
  const absent = new Set<string>();
  searchPacks(
    packs,
    hashes,
    (_hash, at, entry, offset, length) => {
      const seen = counted[at] as Uint8Array | Set<number>;
      if (seen instanceof Uint8Array) {
        if (seen[entry] === 1) return;
        seen[entry] = 1;
      } else {
        if (seen.has(offset)) return;
        seen.add(offset);
      }
      objects += 1;
      bytes += length;
    },
    (hash) => absent.add(hash),
  );
  return { objects, bytes, absent: [...absent] };
}
