/** What changed between two trees, per storage and key. */
import type { Tree } from './commit-record.js';

export interface StorageDiff {
  added: string[];
  deleted: string[];
  mutated: string[];
}

/** storage → its changes; storages without changes are left out. */
export type TreeDiff = Record<string, StorageDiff>;

/**
 * @example
 * diffTrees({ tag: { lr: 'a…' } }, { tag: { lr: 'b…', epochs: 'c…' } });
 * // { tag: { added: ['epochs'], deleted: [], mutated: ['lr'] } }
 */
export function diffTrees(from: Tree, to: Tree): TreeDiff {
  const diff: TreeDiff = {};
  const storages = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
  for (const storage of storages) {
    const before = from[storage] ?? {};
    const after = to[storage] ?? {};
    const changes: StorageDiff = { added: [], deleted: [], mutated: [] };
    for (const [key, hash] of Object.entries(after)) {
      const old = before[key];
      if (old === undefined) changes.added.push(key);
      else if (old !== hash) changes.mutated.push(key);
    }
    for (const key of Object.keys(before)) if (!Object.hasOwn(after, key)) changes.deleted.push(key);
    if (changes.added.length + changes.deleted.length + changes.mutated.length === 0) continue;
    changes.added.sort();
    changes.deleted.sort();
    changes.mutated.sort();
    diff[storage] = changes;
  }
  return diff;
}
