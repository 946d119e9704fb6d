/**
 * Reads a stock commit object (`LSO1`, a JSON header, then the canonical JSON commit; see
 * packages/stock/FORMAT.md) fetched through `GET /stock-objects/<repo>/<id>`, and compares
 * two commits' trees.
 */
import { api } from '../../api/api-client.js';

export interface StockCommit {
  parents: string[];
  message: string;
  tree: Record<string, Record<string, string>>;
}

export async function readCommit(repo: string, id: string, signal?: AbortSignal): Promise<StockCommit> {
  const bytes = new Uint8Array(
    await (
      await api.blob(`/stock-objects/${encodeURIComponent(repo)}/${encodeURIComponent(id)}`, signal)
    ).arrayBuffer(),
  );
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  if (magic !== 'LSO1') throw new Error(`Object ${id.slice(0, 12)} is not a stock object`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true);
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8 + headerLength))) as StockCommit;
}

export interface TreeChange {
  storage: string;
  key: string;
  change: 'added' | 'removed' | 'changed';
}

/** What differs from `before` to `after`, storage by storage. */
export function treeChanges(before: StockCommit['tree'], after: StockCommit['tree']): TreeChange[] {
  const changes: TreeChange[] = [];
  for (const storage of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const old = before[storage] ?? {};
    const now = after[storage] ?? {};
    for (const key of [...new Set([...Object.keys(old), ...Object.keys(now)])].sort()) {
      if (!(key in old)) changes.push({ storage, key, change: 'added' });
      else if (!(key in now)) changes.push({ storage, key, change: 'removed' });
      else if (old[key] !== now[key]) changes.push({ storage, key, change: 'changed' });
    }
  }
  return changes;
}
