/** Options of a Larder server, with the defaults of `larder serve`. */
export interface ServerOptions {
  /** Interface to bind; loopback by default. */
  host?: string;
  /** TCP port; 0 picks a free one. */
  port?: number;
  /** Folder of the embedded database and the blob files. */
  dataDir: string;
  /** `postgres://…` to keep metadata in PostgreSQL instead of `<dataDir>/larder.db`. */
  database?: string;
  /**
   * `s3://bucket/prefix` to keep blobs in S3-compatible storage instead of `<dataDir>/blobs`.
   * Endpoint, region and credentials come from the standard AWS environment
   * (`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`, …).
   */
  blobs?: string;
  /** `redis://…`: realtime events reach the clients of every instance sharing it. */
  redis?: string;
  /** Users, tokens and ownership; true by default. `false` is single-user local use. */
  auth?: boolean;
  /** Anyone may create an account with `POST /users` (default: only admins). */
  openSignup?: boolean;
  /** When set, only these names may be dynamic services. */
  serviceWhitelist?: readonly string[];
  /** Largest JSON body, in bytes (default 16 MiB). */
  maxBodyBytes?: number;
  /** Largest blob upload, in bytes (default 64 GiB). */
  maxBlobBytes?: number;
  /** Milliseconds between garbage collections of unreferenced blobs (default 1 hour; 0: never). */
  gcIntervalMs?: number;
  /** Unreferenced blobs younger than this many milliseconds are kept (default 6 hours). */
  gcGraceMs?: number;
  /** How long the first retry of a failed webhook delivery waits (each next one twice as long). */
  webhookRetryBaseMs?: number;
  /** Where log lines go (default: stderr). */
  log?: (line: string) => void;
}

export { DEFAULT_HOST, DEFAULT_PORT } from '@larder/protocol';
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_BLOB_BYTES = 64 * 1024 * 1024 * 1024;
export const DEFAULT_GC_INTERVAL_MS = 60 * 60_000;
export const DEFAULT_GC_GRACE_MS = 6 * 60 * 60_000;
