/**
 * `GET /api/3.0/mlflow/server-info`: what MLflow 3's client asks before anything else (its
 * telemetry reads the store type, its artifact repository whether the proxy takes multipart
 * uploads). Answered without sign-in, as MLflow's server does, and holding nothing private.
 */
import type { BlobStore } from '../../blobs/blob-store.js';
import type { EndpointTable } from './mlflow-endpoints.js';

/** Endpoints any caller may reach, signed in or not. */
export const PUBLIC_ENDPOINTS: ReadonlySet<string> = new Set(['GET /server-info']);

export function serverInfoEndpoints(blobs: BlobStore): EndpointTable {
  return {
    'GET /server-info': async () => ({
      // Larder's stores answer like MLflow's SQL store (searches in SQL, paged, soft deletion).
      store_type: 'SqlStore',
      workspaces_enabled: false,
      trace_archival_enabled: false,
      // The artifact proxy takes multipart uploads (`/mlflow-artifacts/mpu/…`) on any store,
      // but the client is told to use them only where joining the parts writes nothing again
      // (S3): on a folder the parts would be written twice, and one stream is about twice as
      // fast (a client may still ask for parts, MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true).
      multipart_uploads_enabled: blobs.composesWithoutCopying === true,
      multipart_downloads_enabled: false,
      presigned_upload_run_id_supported: false,
      presigned_upload_model_id_supported: false,
      features_enabled: { gateway: false },
    }),
  };
}
