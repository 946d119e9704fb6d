/**
 * Where a run's console output is stored: one document per chunk in an internal collection
 * (never reachable as a dynamic service), keyed by run and chunk number, removed with the run.
 */
import { eq } from '@larder/protocol';
import type { DocumentStore } from '../../stores/document-store.js';

export const RUN_LOGS_COLLECTION = '_run_logs';

/** A chunk's id: its run and its number, padded so ids sort in chunk order. */
export const runLogChunkId = (run: string, seq: number) => `${run}:${String(seq).padStart(10, '0')}`;

/** Removes a run's console output (when the run is removed). */
export async function removeRunLogs(store: DocumentStore, runId: string): Promise<void> {
  await store.remove(RUN_LOGS_COLLECTION, eq(['run'], runId));
}
