/**
 * The port between services and the wire: a service call described once, carried over
 * REST (`rest-transport.ts`) or socket.io (`socket-transport.ts`).
 */
import type { Id, Query } from './service-types.js';

export type ServiceMethod = 'find' | 'get' | 'create' | 'update' | 'patch' | 'remove';

/** One Feathers service method call; `id: null` on patch/remove means every match. */
export interface ServiceCall {
  method: ServiceMethod;
  path: string;
  id?: Id | null;
  data?: unknown;
  query?: Query;
}

export interface Transport {
  /** Runs the call and answers the server's result, or throws a LarderError. */
  call(call: ServiceCall): Promise<unknown>;
  close(): void;
}

/** What every transport needs to know about the server it talks to. */
export interface TransportOptions {
  /** Server base URL, e.g. `http://127.0.0.1:3030` (a path prefix is allowed). */
  url: string;
  /** The current access token or API key; read on every call so a new login applies. */
  token: () => string | undefined;
  /** Milliseconds before a call fails with a `Timeout` LarderError. */
  timeout: number;
}
