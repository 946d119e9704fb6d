/**
 * Live events over socket.io, authenticated with the session's token (a JWT or an API key:
 * the server's bearer strategy takes both). Feathers names events `"<service> <event>"`
 * (`"runs patched"`, `"metrics points"`); the server sends each only to connections that may
 * read the record. One socket for the whole page, opened on first use and re-authenticated
 * after every reconnection.
 */
import { io, type Socket } from 'socket.io-client';
import { currentToken, onSessionChange } from './session.js';

let socket: Socket | undefined;
let authenticated: Promise<void> | undefined;

function authenticate(open: Socket): Promise<void> {
  return new Promise((resolve) => {
    const token = currentToken();
    if (!token) return resolve();
    open.emit('create', 'authentication', { strategy: 'jwt', accessToken: token }, {}, () => resolve());
  });
}

function connect(): Socket {
  if (socket) return socket;
  const open = io(window.location.origin, { transports: ['websocket'] });
  authenticated = new Promise((resolve) => open.on('connect', () => resolve(authenticate(open))));
  open.io.on('reconnect', () => {
    authenticated = authenticate(open);
  });
  socket = open;
  return open;
}

onSessionChange(() => {
  socket?.close();
  socket = undefined;
  authenticated = undefined;
});

/**
 * Calls `handler` for every `event` of `service` until the returned function is called.
 * The promise `ready` resolves once the connection is authenticated: events after it reach
 * the handler.
 */
export function subscribe<T>(
  service: string,
  event: string,
  handler: (data: T) => void,
): { ready: Promise<void>; stop: () => void } {
  const open = connect();
  const name = `${service} ${event}`;
  const listener = (data: T) => handler(data);
  open.on(name, listener);
  return { ready: authenticated ?? Promise.resolve(), stop: () => open.off(name, listener) };
}
