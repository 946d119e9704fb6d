/**
 * A run removed through Larder (MLflow's own deletion is soft and keeps everything) takes its
 * artifact records with it, and so releases their blobs to the collector. Listens for the
 * runs service's `removed` events on this instance, the one that removed the run.
 */
import type { FeatureContext } from '../../../app/feature.js';
import { RUNS_COLLECTION } from '../../runs/runs-service.js';
import { ArtifactFiles, artifactOwner } from './artifact-files.js';

export function removeArtifactsWithRuns(context: FeatureContext): void {
  const files = new ArtifactFiles(context.store, context.blobs);
  const runs = context.app.service(RUNS_COLLECTION) as unknown as {
    on(event: 'removed', listener: (record: { _id?: unknown }) => void): void;
  };
  runs.on('removed', (record) => {
    if (typeof record?._id !== 'string') return;
    files.remove(artifactOwner(RUNS_COLLECTION, record._id), '').catch((error: unknown) => {
      context.log(`error: removing the MLflow artifacts of run ${record._id}: ${(error as Error).message}`);
    });
  });
}
