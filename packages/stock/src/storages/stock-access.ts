/** How a storage reaches the repository: through a view for reads, or a writable view for writes. */
import type { TreeView } from '../tree-view.js';

export interface StockAccess {
  /** Runs `use` on the view reads should see (head.stock's commit, or the open write scope). */
  read<T>(use: (view: TreeView) => Promise<T>): Promise<T>;
  /** Runs `use` holding the write lock, on a view whose staged changes are kept. */
  write<T>(use: (view: TreeView) => Promise<T>): Promise<T>;
}
