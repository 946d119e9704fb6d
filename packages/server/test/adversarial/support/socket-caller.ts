/**
 * A raw socket.io client speaking Feathers' socket protocol, for probes that must go over
 * the socket transport: each call answers like an HTTP request (`status`, `body`), where a
 * success is 200 (201 for create) and an error is its `code`; every event the connection
 * receives is kept, in order.
 */
import { io, type Socket } from 'socket.io-client';

export interface SocketAnswer {
  status: number;
  body: unknown;
}

export interface SocketCaller {
  call(method: string, path: string, ...args: unknown[]): Promise<SocketAnswer>;
  /** Every `<path> <event>` received so far, with its data. */
  readonly events: { name: string; data: unknown }[];
  /** Resolves once an event matching `test` has arrived (already, or later). */
  waitForEvent(test: (name: string, data: unknown) => boolean): Promise<void>;
  close(): void;
}

const CALL_TIMEOUT_MS = 10_000;

export async function connectSocket(url: string, token: string | undefined): Promise<SocketCaller> {
  const socket: Socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  const events: { name: string; data: unknown }[] = [];
  const waiters: { test: (name: string, data: unknown) => boolean; resolve: () => void }[] = [];
  socket.onAny((name: string, data: unknown) => {
    events.push({ name, data });
    for (const waiter of waiters.splice(0)) {
      if (waiter.test(name, data)) waiter.resolve();
      else waiters.push(waiter);
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const call = (method: string, path: string, ...args: unknown[]) =>
    new Promise<SocketAnswer>((resolve) => {
      const timer = setTimeout(() => resolve({ status: 0, body: 'no acknowledgement' }), CALL_TIMEOUT_MS);
      socket.emit(method, path, ...args, (error: { code?: number } | null, result: unknown) => {
        clearTimeout(timer);
        if (error) resolve({ status: typeof error.code === 'number' ? error.code : 500, body: error });
        else resolve({ status: method === 'create' ? 201 : 200, body: result });
      });
    });
  if (token) {
    const signedIn = await call('create', 'authentication', { strategy: 'jwt', accessToken: token }, {});
    if (signedIn.status !== 201) throw new Error(`socket sign-in: ${JSON.stringify(signedIn.body)}`);
  }
  return {
    call,
    events,
    waitForEvent: (test) =>
      events.some((event) => test(event.name, event.data))
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ test, resolve })),
    close: () => socket.close(),
  };
}
