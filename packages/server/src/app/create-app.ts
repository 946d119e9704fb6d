/**
 * Assembles the Larder application: a Feathers v5 app on Koa with REST and socket.io, the
 * generic document services, authentication and the blob routes, over the given stores.
 */
import { type AuthenticationService, authenticate } from '@feathersjs/authentication';
import { feathers, type HookContext, type NextFunction } from '@feathersjs/feathers';
import { bodyParser, cors, koa, parseAuthentication, rest } from '@feathersjs/koa';
import socketio from '@feathersjs/socketio';
import { assertServiceName, isValidServiceName } from '@larder/protocol';
import type { Context, Next } from 'koa';
import { notAuthenticated } from '../auth/access-policy.js';
import type { Actor } from '../auth/actor.js';
import { createAuthenticationService, loadJwtSecret } from '../auth/authentication.js';
import { refuseChosenIds } from '../auth/chosen-ids.js';
import { signInThrottle } from '../auth/sign-in-throttle.js';
import type { BlobStore } from '../blobs/blob-store.js';
import { PeriodicCollection } from '../blobs/lifecycle/periodic-collection.js';
import { blobRoutes } from '../http/blob-routes.js';
import { decodeRouteParams } from '../http/decoded-route-params.js';
import { errorHandler } from '../http/error-handler.js';
import { jsonBodies, jsonBodyLimits } from '../http/json-bodies.js';
import { describeForLog, publicError } from '../http/public-error.js';
import { parseQueryString } from '../http/query-string.js';
import { safeRouteLookup } from '../http/safe-route-lookup.js';
import { accountRoutes, healthRoute } from '../http/status-routes.js';
import { configureChannels } from '../realtime/channels.js';
import { guardSocketPackets } from '../realtime/socket-packets.js';
import { ApiKeysService } from '../services/api-keys/api-keys-service.js';
import { installDatalake } from '../services/datalake/install-datalake.js';
import { DynamicServices } from '../services/documents/dynamic-services.js';
import { SOCKET_METHODS_ANCHOR_PATH, SocketMethodsAnchor } from '../services/documents/socket-methods-anchor.js';
import { installMarcelle } from '../services/marcelle/install-marcelle.js';
import { installMlflow } from '../services/mlflow/install-mlflow.js';
import { installRegistry } from '../services/registry/install-registry.js';
import { installRunMedia } from '../services/run-media/install-run-media.js';
import { installStock } from '../services/stock/install-stock.js';
import { installTracking } from '../services/tracking/install-tracking.js';
import { UsersService } from '../services/users/users-service.js';
import { installWeb } from '../services/web/install-web.js';
import { installWebhooks } from '../services/webhooks/install-webhooks.js';
import type { DocumentStore } from '../stores/document-store.js';
import type { MetricStore } from '../stores/metric-store.js';
import type { FeathersApp } from './feathers-app.js';
import type { Feature, FeatureContext } from './feature.js';
import {
  DEFAULT_GC_GRACE_MS,
  DEFAULT_GC_INTERVAL_MS,
  DEFAULT_MAX_BLOB_BYTES,
  DEFAULT_MAX_BODY_BYTES,
  type ServerOptions,
} from './server-options.js';

export const LARDER_VERSION = '0.1.0';

export interface LarderApp {
  app: FeathersApp;
  users: UsersService | undefined;
  apiKeys: ApiKeysService | undefined;
  /** Disconnects from Redis, when events go through it. */
  stopFanOut: (() => Promise<void>) | undefined;
  /** Blob garbage collection on a timer; `start()` it once the server listens. */
  collection: PeriodicCollection;
  /** Stops what features run in the background (webhook deliveries). */
  stopFeatures: () => Promise<void>;
}

const RECORD_METHODS = ['find', 'get', 'create', 'update', 'patch', 'remove'];
/** Larder's features, installed in this order. */
const FEATURES: readonly Feature[] = [
  installTracking,
  installRunMedia,
  installRegistry,
  installDatalake,
  installStock,
  installWebhooks,
  installMarcelle,
  installMlflow,
  installWeb,
];
const CLIENT_GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

function isClientGone(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (CLIENT_GONE.has(code) || code.startsWith('HPE_'));
}

export async function createApp(
  options: ServerOptions,
  store: DocumentStore,
  blobs: BlobStore,
  metrics: MetricStore,
): Promise<LarderApp> {
  const authEnabled = options.auth ?? true;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const app = koa(feathers());

  app.use(errorHandler(log));
  // Koa reports errors that happen after the answer started (a client that went away
  // mid-download): those are the client's business; anything else goes to the log.
  (app as unknown as { on(event: 'error', listener: (error: unknown) => void): void }).on('error', (error) => {
    if (!isClientGone(error)) log(`error: ${(error as Error)?.stack ?? String(error)}`);
  });
  // Before any service exists, so that every service's events go through Redis. Loaded
  // only when used: its client libraries cost start-up time.
  let stopFanOut: (() => Promise<void>) | undefined;
  if (options.redis) {
    const fanOut = await import('../realtime/redis-fan-out.js');
    await fanOut.configureRedisFanOut(app, options.redis, log);
    stopFanOut = () => fanOut.stopRedisFanOut(app);
  }
  // Tokens travel in the Authorization header, never in cookies: any origin may call.
  app.use(cors({ origin: '*' }));

  const dynamic = new DynamicServices(app, {
    store,
    blobs,
    authEnabled,
    whitelist: options.serviceWhitelist,
  });

  let users: UsersService | undefined;
  let apiKeys: ApiKeysService | undefined;
  let authService: AuthenticationService | undefined;
  if (authEnabled) {
    users = new UsersService(store, { authEnabled, openSignup: options.openSignup ?? false });
    apiKeys = new ApiKeysService(store, { authEnabled });
    authService = createAuthenticationService(app, { secret: await loadJwtSecret(store), apiKeys });
  }

  /** The caller of a plain Koa route (blobs, info), authenticated like a service call. */
  const actorFor = async (ctx: Context): Promise<Actor> => {
    if (!authEnabled) return { kind: 'local-owner' };
    const authentication = ctx.feathers?.authentication;
    if (!authentication) throw notAuthenticated();
    if (!authService) throw notAuthenticated();
    const result = await authService.authenticate(authentication, { provider: 'rest' }, 'jwt');
    return { kind: 'user', user: result.user };
  };

  const health = () => ({
    status: 'ok',
    version: LARDER_VERSION,
    auth: authEnabled,
    store: store.kind,
    blobs: blobs.kind,
  });
  app.use(healthRoute(health));
  app.use(async (ctx: Context, next: Next) => {
    // The caller's address reaches service calls as `params.ip` (sign-in throttling).
    ctx.feathers = { ...ctx.feathers, ip: ctx.ip } as typeof ctx.feathers;
    return next();
  });
  if (authEnabled) app.use(parseAuthentication());
  app.use(accountRoutes({ serviceNames: (actor) => dynamic.namesReadableBy(actor), authEnabled, actorFor }));
  const gcGraceMs = options.gcGraceMs ?? DEFAULT_GC_GRACE_MS;
  app.use(
    blobRoutes({ blobs, store, maxBlobBytes: options.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES, gcGraceMs, actorFor }),
  );
  // Features' streaming routes, which must see the request body before the parser does.
  type Route = (ctx: Context, next: Next) => Promise<void>;
  const featureRoutes: Route[] = [];
  app.use((ctx: Context, next: Next) => {
    const dispatch = (index: number): Promise<void> =>
      index < featureRoutes.length ? (featureRoutes[index] as Route)(ctx, () => dispatch(index + 1)) : next();
    return dispatch(0);
  });
  app.use(jsonBodies());
  app.use(
    bodyParser({
      jsonLimit: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      urlencoded: false,
      text: false,
      multipart: false,
    }),
  );
  app.use(jsonBodyLimits());
  app.use(parseQueryString());
  app.use(async (ctx: Context, next: Next) => {
    // A first path segment that can never be a service gets a clear answer, not a 404.
    const name = ctx.path.split('/')[1] ?? '';
    if (name !== '' && !isValidServiceName(name) && !name.startsWith('socket.io')) assertServiceName(name);
    return next();
  });
  app.configure(rest());
  app.configure(
    socketio(
      { allowEIO3: true, maxHttpBufferSize: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, cors: { origin: true } },
      (io) => {
        guardSocketPackets(io, log);
        io.use((socket, next) => {
          (socket as unknown as { feathers: Record<string, unknown> }).feathers.ip = socket.handshake.address;
          next();
        });
        io.on('connection', async (socket) => {
          const services = authEnabled ? [] : await dynamic.names().catch(() => []);
          socket.emit('init', { auth: authEnabled, services });
        });
      },
    ),
  );

  // Services are registered after the transports so that both see them.
  app.use(SOCKET_METHODS_ANCHOR_PATH, new SocketMethodsAnchor(), { methods: RECORD_METHODS });
  if (users && apiKeys && authService) {
    app.use('users', users, { methods: RECORD_METHODS });
    app.use('api-keys', apiKeys, { methods: ['find', 'get', 'create', 'remove'] });
    app.use('authentication', authService);
    app.service('authentication').hooks({
      around: { create: [signInThrottle()] },
      // Feathers' sign-out reads the caller's token without checking that one was sent.
      before: {
        remove: [
          (context: HookContext) => {
            if (!context.params.authentication) throw notAuthenticated();
          },
        ],
      },
    });
  }

  // Authentication of every external service call, on every transport.
  app.hooks({
    around: {
      all: [
        async (context: HookContext, next: NextFunction) => {
          const { params } = context;
          if (authEnabled && params.provider && params.authentication && context.path !== 'authentication') {
            await authenticate('jwt')(context);
          }
          await next();
        },
      ],
    },
    before: { create: [refuseChosenIds(authEnabled)] },
    error: {
      all: [
        (context: HookContext) => {
          // One error table on every transport; unexpected errors are logged, answered generically.
          const { error, unexpected } = publicError(context.error);
          if (unexpected) log(`error: ${context.path}.${context.method}: ${describeForLog(context.error)}`);
          context.error = error;
        },
      ],
    },
  });

  const stops: (() => Promise<void>)[] = [];
  const featureContext: FeatureContext = {
    app,
    store,
    blobs,
    metrics,
    authEnabled,
    maxBlobBytes: options.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES,
    log,
    actorFor,
    useRoute: (handler) => featureRoutes.push(handler),
    onStop: (stop) => stops.push(stop),
    webhookRetryBaseMs: options.webhookRetryBaseMs,
  };
  for (const feature of FEATURES) await feature(featureContext);

  configureChannels(app, authEnabled);
  await dynamic.install();
  decodeRouteParams(app);
  safeRouteLookup(app);
  const collection = new PeriodicCollection(store, blobs, {
    intervalMs: options.gcIntervalMs ?? DEFAULT_GC_INTERVAL_MS,
    graceMs: gcGraceMs,
    log,
  });
  const stopFeatures = async () => {
    await Promise.all(stops.map((stop) => stop()));
  };
  return { app, users, apiKeys, stopFanOut, collection, stopFeatures };
}
