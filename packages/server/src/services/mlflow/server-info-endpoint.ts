/**
 * `GET /api/3.0/mlflow/server-info`: what MLflow 3's client asks before anything else (its
 * telemetry reads the store type, its artifact repository whether the proxy takes multipart
 * uploads). Answered without sign-in, as MLflow's server does, and holding nothing private.
 */
import type { EndpointTable } from './mlflow-endpoints.js';

/** Endpoints any caller may reach, signed in or not. */
export const PUBLIC_ENDPOINTS: ReadonlySet<string> = new Set(['GET /server-info']);

export function serverInfoEndpoints(): EndpointTable {
  return {
    'GET /server-info': async () => ({
      // Larder's stores answer like MLflow's SQL store (searches in SQL, paged, soft deletion).
      store_type: 'SqlStore',
      workspaces_enabled: false,
      trace_archival_enabled: false,
      // The artifact proxy composes multipart uploads (`/mlflow-artifacts/mpu/…`).
      multipart_uploads_enabled: true,
      multipart_downloads_enabled: false,
      presigned_upload_run_id_supported: false,
      presigned_upload_model_id_supported: false,
      features_enabled: { gateway: false },
    }),
  };
}
