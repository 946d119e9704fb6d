/**
 * A feature of Larder (tracking, the model registry, the datalake, stock) is one function
 * that registers its services and routes on the app. `create-app.ts` installs them all
 * after the transports and before the dynamic services, so feature paths win over
 * dynamic ones of the same name.
 */
import type { Context, Next } from 'koa';
import type { Actor } from '../auth/actor.js';
import type { BlobStore } from '../blobs/blob-store.js';
import type { DocumentStore } from '../stores/document-store.js';
import type { MetricStore } from '../stores/metric-store.js';
import type { FeathersApp } from './feathers-app.js';

export interface FeatureContext {
  app: FeathersApp;
  store: DocumentStore;
  blobs: BlobStore;
  metrics: MetricStore;
  authEnabled: boolean;
  maxBlobBytes: number;
  log: (line: string) => void;
  /** The caller of a plain Koa route, authenticated like a service call. */
  actorFor: (ctx: Context) => Promise<Actor>;
  /**
   * Adds a Koa route handler that runs before the JSON body parser (for streaming
   * uploads). Call it only while the feature is being installed.
   */
  useRoute: (handler: (ctx: Context, next: Next) => Promise<void>) => void;
  /** Runs when the server stops, before the stores close (timers, queues). */
  onStop: (stop: () => Promise<void>) => void;
  webhookRetryBaseMs: number | undefined;
}

export type Feature = (context: FeatureContext) => Promise<void> | void;
