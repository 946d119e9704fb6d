/**
 * What a push or pull must exchange. A commit needs its own object, its model manifests, tags
 * and every tensor they name; a transfer sends the commits the other side lacks (oldest first)
 * and, for each, only the objects the other side does not hold. Objects travel as raw bytes
 * (`ObjectStore.readRaw` / `writeRaw`); the receiver checks each against its hash.
 *
 * @example
 * const needed = await objectsForCommit(stock.objects, id);
 * const missing = await missingObjects(remote.objects, needed);
 * for (const hash of missing) await remote.objects.writeRaw(hash, await stock.objects.readRaw(hash));
 */
import { LarderError } from '@larder/protocol';
import { commitsOf } from '../commits/commit-graph.js';
import type { ObjectStore } from '../objects/object-store.js';

/**
 * Every object hash commit `id` needs (not its ancestors), in a safe sending order: tensors
 * and tags first, then the model manifests that name tensors, the commit last.
 */
export async function objectsForCommit(objects: ObjectStore, id: string): Promise<string[]> {
  const commit = await commitsOf(objects).read(id);
  const needed = new Set<string>();
  const manifests = new Set<string>();
  for (const [storage, keys] of Object.entries(commit.tree)) {
    for (const hash of Object.values(keys)) {
      if (storage !== 'model') needed.add(hash);
      else {
        manifests.add(hash);
        const manifest = (await objects.getJson('model', hash)) as { tensors?: { hash?: unknown }[] } | null;
        for (const entry of manifest?.tensors ?? []) {
          if (typeof entry.hash !== 'string') {
            throw new LarderError('Unprocessable', `Model manifest ${hash.slice(0, 12)} names an invalid tensor hash`);
          }
          needed.add(entry.hash);
        }
      }
    }
  }
  return [...needed, ...manifests, id];
}

/** Commit `id` and all its ancestors (every parent, not just the first), oldest first. */
export async function commitAncestry(objects: ObjectStore, id: string): Promise<string[]> {
  const seen = new Set<string>();
  const order: string[] = [];
  const visit = async (current: string): Promise<void> => {
    const stack: [string, boolean][] = [[current, false]];
    while (stack.length > 0) {
      const [hash, expanded] = stack.pop() as [string, boolean];
      if (expanded) {
        order.push(hash);
        continue;
      }
      if (seen.has(hash)) continue;
      seen.add(hash);
      stack.push([hash, true]);
      const commit = await commitsOf(objects).read(hash);
      for (const parent of commit.parents) if (!seen.has(parent)) stack.push([parent, false]);
    }
  };
  await visit(id);
  return order;
}

/** The hashes among `hashes` that `objects` does not hold. */
export async function missingObjects(objects: ObjectStore, hashes: Iterable<string>): Promise<string[]> {
  const missing: string[] = [];
  for (const hash of hashes) if (!(await objects.has(hash))) missing.push(hash);
  return missing;
}
