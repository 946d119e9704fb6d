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
/** Events kept for sending while Redis is unreachable. */
const MAX_UNSENT_EVENTS = 10_000;
/** Pause between attempts to send kept events. */
const RETRY_MS = 200;

interface SyncState {
  ready: Promise<unknown>;
  pub: { quit(): Promise<unknown>; isOpen: boolean; isReady: boolean };
  sub: { quit(): Promise<unknown>; isOpen: boolean; isReady: boolean };
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
  // Every instance subscribes itself, so a publish is delivered only when it reaches at
  // least one subscriber. One that fails, reaches none, or happens while our own subscriber
  // is reconnecting (the two connections recover independently) is kept and sent again:
  // the events of writes made during an outage arrive when it ends. (Should a failed
  // publish in fact have reached Redis, its event can arrive twice.)
  const publish = client.publish.bind(client) as (...args: unknown[]) => Promise<unknown>;
  const unsent: unknown[][] = [];
  let subscriber: { isReady: boolean } | undefined;
  let retry: NodeJS.Timeout | undefined;
  const scheduleRetry = () => {
    retry ??= setTimeout(() => {
      retry = undefined;
      resend();
    }, RETRY_MS);
    retry.unref();
  };
  const keep = (args: unknown[]) => {
    if (unsent.length < MAX_UNSENT_EVENTS) unsent.push(args);
    else log(`redis: an event was dropped (${MAX_UNSENT_EVENTS} already wait to be sent)`);
    scheduleRetry();
  };
  const send = (args: unknown[]): Promise<unknown> => {
    if (subscriber && !subscriber.isReady) {
      keep(args);
      return Promise.resolve(0);
    }
    return publish(...args).then(
      (receivers) => {
        if (receivers === 0) keep(args);
        return receivers;
      },
      () => {
        keep(args);
        return 0;
      },
    );
  };
  const resend = () => {
    if (!client.isReady || (subscriber && !subscriber.isReady)) {
      if (unsent.length > 0) scheduleRetry();
      return;
    }
    for (const args of unsent.splice(0)) void send(args);
  };
  (client as unknown as { publish: (...args: unknown[]) => Promise<unknown> }).publish = (...args: unknown[]) =>
    send(args);
  // The package is CommonJS: its function is also exported as `default`.
  // Its types omit `redisClient`, which the Redis adapter accepts.
  const options = { uri: url, redisClient: client, key: 'larder-events' } as Parameters<typeof feathersSync.default>[0];
  app.configure(feathersSync.default(options));
  const state = (app as unknown as { sync: SyncState }).sync;
  subscriber = state.sub;
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
