/**
 * Starts a Larder server on its embedded defaults (SQLite + a folder of blobs) and stops it
 * cleanly: no new connections, in-flight requests finished, sockets closed, stores closed.
 *
 * @example
 * const server = await startServer({ dataDir: './larder-data', port: 3030 });
 * console.log(server.url);
 * await server.close();
 */
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { LarderError } from '@larder/protocol';
import type { BlobStore } from '../blobs/blob-store.js';
import { FsBlobStore } from '../blobs/fs/fs-blob-store.js';
import type { DocumentStore } from '../stores/document-store.js';
import type { MetricStore } from '../stores/metric-store.js';
import { SqliteDocumentStore } from '../stores/sqlite/sqlite-document-store.js';
import { SqliteMetricStore } from '../stores/sqlite/sqlite-metric-store.js';
import { type AdminCredentials, bootstrapAdmin } from './bootstrap-admin.js';
import { createApp } from './create-app.js';
import { DEFAULT_HOST, DEFAULT_PORT, type ServerOptions } from './server-options.js';

export interface RunningServer {
  url: string;
  port: number;
  host: string;
  /** Set on the very first start with auth on: the admin account and an API key. */
  createdAdmin: AdminCredentials | undefined;
  close(): Promise<void>;
}

const DRAIN_TIMEOUT_MS = 10_000;
const MAX_HEADER_BYTES = 1024 * 1024;

/**
 * PostgreSQL when `database` is a postgres URL, else the embedded SQLite file. Adapters of
 * shared engines are loaded only when used: their drivers cost start-up time.
 */
async function openDocumentStore(options: ServerOptions): Promise<DocumentStore> {
  const database = options.database;
  if (database === undefined || database === '') {
    return new SqliteDocumentStore({ file: join(options.dataDir, 'larder.db') });
  }
  if (/^postgres(ql)?:\/\//.test(database)) {
    const { PostgresDocumentStore } = await import('../stores/postgres/postgres-document-store.js');
    return new PostgresDocumentStore({ connectionString: database });
  }
  throw new LarderError('BadRequest', 'The database must be a postgres:// URL (or left out for the embedded SQLite)');
}

/** Metric series beside the documents: in PostgreSQL with them, else in `<dataDir>/metrics.db`. */
async function openMetricStore(options: ServerOptions): Promise<MetricStore> {
  if (options.database) {
    const { PostgresMetricStore } = await import('../stores/postgres/postgres-metric-store.js');
    return new PostgresMetricStore({ connectionString: options.database });
  }
  return new SqliteMetricStore({ file: join(options.dataDir, 'metrics.db') });
}

/** S3 when `blobs` is an s3:// URL, else the folder `<dataDir>/blobs`. */
async function openBlobStore(options: ServerOptions): Promise<BlobStore> {
  if (!options.blobs) return new FsBlobStore({ root: join(options.dataDir, 'blobs') });
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(options.blobs);
  if (!match) throw new LarderError('BadRequest', 'Blob storage must be an s3://bucket[/prefix] URL');
  const endpoint = process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL;
  const { S3BlobStore } = await import('../blobs/s3/s3-blob-store.js');
  return new S3BlobStore({
    bucket: match[1] as string,
    prefix: match[2] ?? '',
    // S3-compatible servers on their own endpoint usually want path-style addressing.
    client: endpoint ? { endpoint, forcePathStyle: true, region: process.env.AWS_REGION || 'us-east-1' } : {},
  });
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? DEFAULT_HOST;
  const store = await openDocumentStore(options);
  const blobs = await openBlobStore(options);
  const metrics = await openMetricStore(options);
  await store.open();
  await blobs.open();
  await metrics.open();
  const { app, users, apiKeys, stopFanOut, collection, stopFeatures } = await createApp(options, store, blobs, metrics);
  // Long `$in` lists travel in the query string: allow request heads up to 1 MiB.
  const server: Server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, app.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await app.setup(server);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? DEFAULT_PORT);
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const createdAdmin = users && apiKeys ? await bootstrapAdmin(store, users, apiKeys) : undefined;
  collection.start();

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      // Idle keep-alive connections go now; busy ones finish their request first.
      server.closeIdleConnections();
      app.io?.disconnectSockets(true);
      const timer = setTimeout(() => server.closeAllConnections(), DRAIN_TIMEOUT_MS);
      await drained;
      clearTimeout(timer);
      await app.teardown?.().catch(() => {});
      await collection.stop();
      await stopFeatures();
      await stopFanOut?.();
      await blobs.close();
      await metrics.close();
      await store.close();
    })();
    return closing;
  };

  return { url: `http://${urlHost}:${port}`, port, host, createdAdmin, close };
}
