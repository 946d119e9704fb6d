/**
 * The SDK's entry point: one connection to a Larder (or Marcelle) server, handing out
 * typed {@link Service}s. Calls go over REST by default or over socket.io; realtime events
 * always use a socket, opened on the first `on()`.
 */

import { assertServiceName, LarderError } from '@larder/protocol';
import { BlobClient } from '../blobs/blob-client.js';
import { type ConnectionOptions, resolveConnection } from '../config/credentials.js';
import { nearestName } from '../service-catalog/nearest-name.js';
import { listServices } from '../service-catalog/service-catalog.js';
import { RestTransport, unreachable } from './rest-transport.js';
import { Service, type ServiceConnection } from './service.js';
import type { DataRecord } from './service-types.js';
import { SocketTransport } from './socket-transport.js';
import type { ServiceCall, Transport } from './transport.js';

export interface DataStoreOptions extends ConnectionOptions {
  /** `rest` (default) sends calls over HTTP; `socket` sends them over socket.io. */
  transport?: 'rest' | 'socket';
  /** Milliseconds before a call fails with a `Timeout` LarderError. Default 30 000. */
  timeout?: number;
  /** The fetch the REST transport uses; defaults to the global one. */
  fetch?: typeof fetch;
  /**
   * Warn (once per service) when a `find` comes back empty from a service nothing you may
   * read was ever written to and whose name is close to one that was (a typo). Default true.
   */
  warnUnwritten?: boolean;
}

/** What `POST /authentication` answers. */
export interface AuthenticationResult<U = DataRecord> {
  accessToken: string;
  user: U;
  [key: string]: unknown;
}

const DEFAULT_TIMEOUT = 30_000;

/**
 * A connection to a Larder server. The URL and token come from the options, else
 * `$LARDER_URL` / `$LARDER_TOKEN`, else the credentials file, else `http://127.0.0.1:3030`
 * without a token. Close it when done so open sockets do not keep the process alive.
 *
 * @example
 * const store = new DataStore({ url: 'http://127.0.0.1:3030' });
 * await store.authenticate({ email: 'ada@example.org', password: 'secret' });
 * const runs = store.service<Run>('runs');
 * runs.on('created', (run) => console.log('new run', run.name));
 * await runs.create({ name: 'mnist-1' });
 * await store.close();
 */
export class DataStore {
  readonly #options: DataStoreOptions;
  readonly #timeout: number;
  readonly #connection: ServiceConnection;
  #resolved: Promise<string> | undefined;
  #token: string | undefined;
  #transport: Promise<Transport> | undefined;
  /** The socket for events; the main transport too when `transport` is `socket`. */
  #socket: Promise<SocketTransport> | undefined;
  #closed = false;
  #blobs: BlobClient | undefined;
  readonly #checkedServices = new Set<string>();

  constructor(options: DataStoreOptions = {}) {
    this.#options = options;
    this.#timeout = options.timeout ?? DEFAULT_TIMEOUT;
    this.#connection = {
      call: (call) => this.#call(call),
      on: (eventName, handler) => {
        this.#openSocket().then((socket) => socket.on(eventName, handler), ignore);
      },
      off: (eventName, handler) => {
        this.#socket?.then((socket) => socket.off(eventName, handler), ignore);
      },
    };
  }

  /**
   * The service at `/<name>`; `T` is the record type it answers.
   *
   * @example
   * const { data } = await store.service<Run>('runs').find({ query: { $limit: 10 } });
   */
  service<T = DataRecord, D = Partial<T>>(name: string): Service<T, D> {
    assertServiceName(name);
    return new Service<T, D>(name, this.#connection);
  }

  /**
   * Files on the server, stored once by content hash, with resumable uploads and downloads.
   *
   * @example
   * const weights = await store.blobs.upload('./weights.bin');
   * await store.service('checkpoints').create({ epoch: 3, weights });
   */
  get blobs(): BlobClient {
    this.#blobs ??= new BlobClient({
      url: () => this.#resolveUrl(),
      token: () => this.#token,
      ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
    });
    return this.#blobs;
  }

  /**
   * A raw HTTP request to the server with this store's token: for routes that are not
   * services (file routes, binary bodies). Network failures become LarderErrors; the
   * answer is returned whatever its status.
   *
   * @example
   * const response = await store.request('/health');
   */
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    if (this.#closed) throw closedError();
    const base = (await this.#resolveUrl()).replace(/\/+$/, '');
    const headers = new Headers(init.headers);
    if (this.#token && !headers.has('authorization')) headers.set('authorization', `Bearer ${this.#token}`);
    const fetchFn = this.#options.fetch ?? globalThis.fetch;
    try {
      return await fetchFn(`${base}${path}`, {
        ...init,
        headers,
        signal: init.signal ?? AbortSignal.timeout(this.#timeout),
      });
    } catch (cause) {
      throw unreachable(init.method ?? 'GET', `${base}${path}`, base, this.#timeout, cause);
    }
  }

  /**
   * Logs in with e-mail and password; later calls (and open sockets) use the new token.
   *
   * @example
   * const { user } = await store.authenticate({ email: 'ada@example.org', password: 'secret' });
   */
  async authenticate(credentials: { email: string; password: string }): Promise<AuthenticationResult> {
    const result = await this.#call({
      method: 'create',
      path: 'authentication',
      data: { strategy: 'local', email: credentials.email, password: credentials.password },
    });
    if (!isAuthenticationResult(result)) {
      throw new LarderError('GeneralError', 'The server accepted the login but answered no accessToken');
    }
    this.#token = result.accessToken;
    if (this.#options.transport !== 'socket' && this.#socket) await (await this.#socket).reauthenticate();
    return result;
  }

  /**
   * Resolves once the event socket opened by `on()` is connected and signed in, so that no
   * event of a write made afterwards is missed (at once when no socket is open). Rejects
   * when the socket cannot connect or sign in.
   *
   * @example
   * runs.on('created', show);
   * await store.listening();
   */
  async listening(): Promise<void> {
    if (this.#options.transport === 'socket') {
      await (await this.#openSocket()).ready();
      return;
    }
    if (this.#socket) await (await this.#socket).ready();
  }

  /** Closes open sockets; calls made afterwards fail with an `Unavailable` LarderError. */
  async close(): Promise<void> {
    this.#closed = true;
    const open: Promise<Transport>[] = [this.#transport, this.#socket].filter((each) => each !== undefined);
    await Promise.all(open.map((transport) => transport.then((each) => each.close(), ignore)));
  }

  async #call(call: ServiceCall): Promise<unknown> {
    if (this.#closed) throw closedError();
    const transport = await this.#mainTransport();
    // Let a REST write made after `on()` be seen by the event socket.
    if (transport instanceof RestTransport && this.#socket) {
      await this.#socket.then((socket) => socket.ready()).catch(ignore);
    }
    const result = await transport.call(call);
    if (call.method === 'find' && isEmpty(result)) this.#noticeUnwritten(call.path);
    return result;
  }

  /** A typo in a service name reads as an empty service: say so, once, without delaying the answer. */
  #noticeUnwritten(path: string): void {
    if (this.#options.warnUnwritten === false || this.#checkedServices.has(path)) return;
    this.#checkedServices.add(path);
    listServices(this).then((services) => {
      const meant = services.includes(path) ? undefined : nearestName(path, services);
      if (meant) console.warn(`larder: no service '${path}' yet; did you mean '${meant}'?`);
    }, ignore);
  }

  #mainTransport(): Promise<Transport> {
    if (this.#options.transport === 'socket') return this.#openSocket();
    this.#transport ??= this.#resolveUrl().then(
      (url) => new RestTransport({ url, token: () => this.#token, timeout: this.#timeout, fetch: this.#options.fetch }),
      (error: unknown) => {
        this.#transport = undefined;
        throw error;
      },
    );
    return this.#transport;
  }

  #openSocket(): Promise<SocketTransport> {
    this.#socket ??= this.#resolveUrl().then(
      (url) => new SocketTransport({ url, token: () => this.#token, timeout: this.#timeout }),
      (error: unknown) => {
        this.#socket = undefined;
        throw error;
      },
    );
    return this.#socket;
  }

  /** Resolves URL and token once (a failure is retried on the next call). */
  #resolveUrl(): Promise<string> {
    if (this.#closed) return Promise.reject(closedError());
    this.#resolved ??= resolveConnection(this.#options).then(
      ({ url, token }) => {
        this.#token ??= token;
        return url;
      },
      (error: unknown) => {
        this.#resolved = undefined;
        throw error;
      },
    );
    return this.#resolved;
  }
}

function isAuthenticationResult(value: unknown): value is AuthenticationResult {
  return value !== null && typeof value === 'object' && 'accessToken' in value && typeof value.accessToken === 'string';
}

function closedError(): LarderError {
  return new LarderError('Unavailable', 'This DataStore is closed; create a new one to make more calls');
}

function ignore(): void {}

function isEmpty(result: unknown): boolean {
  if (Array.isArray(result)) return result.length === 0;
  return (result as { total?: unknown } | null)?.total === 0;
}
