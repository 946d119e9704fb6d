/**
 * Where the datalake keeps its records, and how rows of one dataset version are keyed.
 *
 * Membership and annotations can reach hundreds of thousands of rows per version, so their
 * ids start with the version id (`<versionId>:<assetId>`, `<versionId>:<annotationId>`):
 * a version's rows are one primary-key range, read, counted and deleted without scanning
 * other versions.
 */
import { and, eq, type Filter, MATCH_ALL, not, or } from '@larder/protocol';

export const ASSETS = 'assets';
export const DATASETS = 'datasets';
export const VERSIONS = 'dataset_versions';
export const MEMBERS = 'dataset_members';
export const LABELS = 'dataset_labels';
export const ANNOTATIONS = 'dataset_annotations';

/** Rows written per insert statement when copying or adding membership in bulk. */
export const WRITE_BATCH = 5000;

/** Every row of `versionId` in a collection keyed by version (members, annotations). */
export function versionRows(versionId: string): Filter {
  // ":" sorts just before ";", so the ids `<versionId>:…` are exactly this range.
  return and({ op: 'gte', path: ['_id'], value: `${versionId}:` }, { op: 'lt', path: ['_id'], value: `${versionId};` });
}

export function memberId(versionId: string, assetId: string): string {
  return `${versionId}:${assetId}`;
}

/** The version an annotation or member id belongs to. */
export function versionOfRow(rowId: string): string {
  return rowId.slice(0, rowId.indexOf(':'));
}

/** Records whose `field` is any of `values` (one set-membership test in the store). */
export function anyOf(field: string, values: readonly string[]): Filter {
  if (values.length === 0) return not(MATCH_ALL);
  return or(...values.map((value) => eq([field], value)));
}

/** Runs `work` on consecutive slices of `items`. */
export async function inBatches<T>(
  items: readonly T[],
  size: number,
  work: (batch: T[]) => Promise<void>,
): Promise<void> {
  for (let start = 0; start < items.length; start += size) await work(items.slice(start, start + size));
}
