/**
 * Realtime events across server instances: every service event is published to Redis
 * (feathers-sync) and re-emitted on every instance, where the channels deliver it to the
 * connections whose user may read the record, by that instance's own permission check.
 */
import { LarderError } from '@larder/protocol';
import feathersSync from 'feathers-sync';
import { createClient } from 'redis';
import type { FeathersApp } from '../app/feathers-app.js';

const READY_TIMEOUT_MS = 10_000;

interface SyncState {
  ready: Promise<unknown>;
  pub: { quit(): Promise<unknown>; isOpen: boolean };
  sub: { quit(): Promise<unknown>; isOpen: boolean };
}

/** Connects the app to Redis; resolves once subscribed, rejects (Unavailable) when Redis cannot be reached. */
export async function configureRedisFanOut(app: FeathersApp, url: string, log: (line: string) => void) {
  let lastError = 0;
  const client = createClient({ url });
  client.on('error', (error: Error) => {
    // Reconnection is automatic; say so at most every 10 s.
    if (Date.now() - lastError > 10_000) log(`redis: ${error.message} (reconnecting)`);
    lastError = Date.now();
  });
  // A publish while Redis is away must not become an unhandled rejection.
  const publish = client.publish.bind(client);
  (client as unknown as { publish: (...args: unknown[]) => Promise<unknown> }).publish = (...args: unknown[]) =>
    (publish as (...a: unknown[]) => Promise<unknown>)(...args).catch((error: Error) => {
      log(`redis: an event was not published: ${error.message}`);
      return 0;
    });
  // The package is CommonJS: its function is also exported as `default`.
  // Its types omit `redisClient`, which the Redis adapter accepts.
  const options = { uri: url, redisClient: client, key: 'larder-events' } as Parameters<typeof feathersSync.default>[0];
  app.configure(feathersSync.default(options));
  const state = (app as unknown as { sync: SyncState }).sync;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('no answer')), READY_TIMEOUT_MS);
  });
  try {
    await Promise.race([state.ready, timeout]);
  } catch (error) {
    await stopRedisFanOut(app);
    throw new LarderError('Unavailable', `Cannot reach Redis at ${redact(url)}: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}

export async function stopRedisFanOut(app: FeathersApp): Promise<void> {
  const state = (app as unknown as { sync?: SyncState }).sync;
  if (!state) return;
  await Promise.all(
    [state.pub, state.sub].map((client) => (client.isOpen ? client.quit().catch(() => {}) : undefined)),
  );
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
}
