/**
 * Carries service calls over the Feathers socket RPC (`socket.emit(method, path, ...args,
 * ack)`) and receives realtime events (`"<path> created"`…). After every (re)connection it
 * authenticates with the current token (`strategy: 'jwt'`, which also accepts API keys)
 * before sending calls.
 *
 * @example
 * const socket = new SocketTransport({ url: 'http://127.0.0.1:3030', token: () => key, timeout: 30_000 });
 * socket.on('runs created', (run) => console.log(run));
 * await socket.call({ method: 'create', path: 'runs', data: { name: 'a' } });
 * socket.close();
 */
import { LarderError, toLarderError } from '@larder/protocol';
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type { ServiceCall, Transport, TransportOptions } from './transport.js';

export interface SocketTransportOptions extends TransportOptions {
  /** socket.io options laid over Larder's (`transports: ['websocket']`, `<url path>/socket.io`). */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
}

interface Waiter {
  resolve: () => void;
  reject: (error: LarderError) => void;
}

type Ack = (error: unknown, result?: unknown) => void;

export class SocketTransport implements Transport {
  readonly #options: SocketTransportOptions;
  readonly #socket: Socket;
  /** Calls waiting for a connection. */
  readonly #waiters = new Set<Waiter>();
  /** Fails every unfinished call; used by close(). */
  readonly #pending = new Set<(error: LarderError) => void>();
  /** Settles when the current connection is authenticated (at once without a token). */
  #authenticated: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: SocketTransportOptions) {
    this.#options = options;
    const location = new URL(options.url);
    // A path in the URL is a prefix for socket.io's endpoint, not a socket.io namespace.
    const path = `${location.pathname.replace(/\/+$/, '')}/socket.io`;
    this.#socket = io(location.origin, { path, transports: ['websocket'], forceNew: true, ...options.socketOptions });
    this.#socket.on('connect', () => {
      this.#authenticated = this.#authenticateConnection();
      this.#authenticated.catch(() => undefined);
      for (const waiter of this.#waiters) waiter.resolve();
      this.#waiters.clear();
    });
    this.#socket.on('disconnect', (reason: string) => {
      // socket.io reconnects by itself after network trouble, but not when the server
      // closed the connection (a restart): reconnect then too, unless we are closing.
      if (reason === 'io server disconnect' && !this.#closed) this.#socket.connect();
    });
    this.#socket.on('connect_error', (cause: Error) => {
      this.#failWaiters(
        new LarderError(
          'Unavailable',
          `Could not connect to ${options.url} (${cause.message}); is the Larder server running?`,
          {
            cause,
          },
        ),
      );
    });
  }

  /** Resolves once connected and authenticated; rejects on a connection or login failure. */
  ready(): Promise<void> {
    return this.#withTimeout('connecting', async () => {
      await this.#connected();
      await this.#authenticated;
    });
  }

  call(call: ServiceCall): Promise<unknown> {
    return this.#withTimeout(`${call.method} ${call.path}`, async (isSettled) => {
      await this.#connected();
      // A stale token must not block the login that replaces it.
      const isLogin = call.path === 'authentication' && call.method === 'create';
      if (!isLogin) await this.#authenticated;
      if (isSettled()) return undefined;
      const result = await this.#emit(call.method, call.path, socketArguments(call));
      if (isLogin) this.#authenticated = Promise.resolve();
      return result;
    });
  }

  /** Authenticates the live connection again with the current token (after a new login). */
  reauthenticate(): Promise<void> {
    if (this.#socket.connected) {
      this.#authenticated = this.#authenticateConnection();
      this.#authenticated.catch(() => undefined);
    }
    return this.ready();
  }

  /** Listens to a socket event such as `"runs created"`. */
  on<T>(eventName: string, handler: (record: T) => void): void {
    this.#socket.on(eventName, handler);
  }

  off<T>(eventName: string, handler: (record: T) => void): void {
    this.#socket.off(eventName, handler);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.disconnect();
    const error = new LarderError('Unavailable', `The connection to ${this.#options.url} was closed`);
    this.#failWaiters(error);
    for (const fail of this.#pending) fail(error);
  }

  #authenticateConnection(): Promise<void> {
    const accessToken = this.#options.token();
    if (!accessToken) return Promise.resolve();
    return this.#emit('create', 'authentication', [{ strategy: 'jwt', accessToken }, {}]).then(() => undefined);
  }

  #emit(method: string, path: string, args: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const ack: Ack = (error, result) => (error ? reject(toLarderError(error)) : resolve(result));
      this.#socket.emit(method, path, ...args, ack);
    });
  }

  #connected(): Promise<void> {
    if (this.#closed)
      return Promise.reject(new LarderError('Unavailable', `The connection to ${this.#options.url} was closed`));
    if (this.#socket.connected) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.add({ resolve, reject }));
  }

  #failWaiters(error: LarderError): void {
    for (const waiter of this.#waiters) waiter.reject(error);
    this.#waiters.clear();
  }

  /** Runs `work`, failing with a Timeout after the configured delay or when closed. */
  #withTimeout<R>(what: string, work: (isSettled: () => boolean) => Promise<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let settled = false;
      const finish = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        this.#pending.delete(fail);
        return true;
      };
      const fail = (error: unknown) => {
        if (finish()) reject(toLarderError(error));
      };
      const timer = setTimeout(() => {
        const { url, timeout } = this.#options;
        const problem = this.#socket.connected ? `no answer from ${url}` : `could not connect to ${url}`;
        fail(new LarderError('Timeout', `${what}: ${problem} within ${timeout} ms`));
      }, this.#options.timeout);
      this.#pending.add(fail);
      work(() => settled).then((result) => {
        if (finish()) resolve(result);
      }, fail);
    });
  }
}

/** The Feathers socket arguments after the path, for each method. */
function socketArguments(call: ServiceCall): unknown[] {
  const query = call.query ?? {};
  switch (call.method) {
    case 'find':
      return [query];
    case 'get':
      return [call.id, query];
    case 'create':
      return [call.data, query];
    case 'update':
    case 'patch':
      return [call.id ?? null, call.data, query];
    case 'remove':
      return [call.id ?? null, query];
  }
}
