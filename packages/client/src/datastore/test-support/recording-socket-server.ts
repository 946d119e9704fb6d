/**
 * A socket.io server speaking just enough of the Feathers socket RPC to check what the SDK
 * emits: it records every `(method, path, ...args)` and acks `(error, result)` with what
 * the test answers. Not a stand-in for the Larder server.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LarderError } from '@larder/protocol';
import { Server, type Socket } from 'socket.io';

export interface RecordedEmit {
  method: string;
  path: string;
  args: unknown[];
  socket: Socket;
}

/** Return {@link HANG} to never ack; throw a LarderError to ack with its Feathers JSON. */
export type SocketResponder = (emit: RecordedEmit) => unknown;

export const HANG = Symbol('hang');

const METHODS = ['find', 'get', 'create', 'update', 'patch', 'remove'];

export interface RecordingSocketServer {
  url: string;
  io: Server;
  emits: RecordedEmit[];
  connections: Socket[];
  respond: SocketResponder;
  /** Resolves when the server has seen `count` connections in all. */
  connectionCount(count: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts on its own port, or beside the HTTP routes of `httpServer` when given. */
export async function startSocketServer(
  respond: SocketResponder = () => ({}),
  httpServer?: HttpServer,
): Promise<RecordingSocketServer> {
  const server = httpServer ?? createServer();
  const io = new Server(server, { transports: ['websocket'] });
  const emits: RecordedEmit[] = [];
  const connections: Socket[] = [];
  const countWaiters: { count: number; resolve: () => void }[] = [];
  io.on('connection', (socket) => {
    connections.push(socket);
    for (const waiter of countWaiters) if (connections.length >= waiter.count) waiter.resolve();
    for (const method of METHODS) {
      socket.on(method, (path: string, ...rest: unknown[]) => {
        const ack = rest.pop() as (error: unknown, result?: unknown) => void;
        const emit: RecordedEmit = { method, path, args: rest, socket };
        emits.push(emit);
        Promise.resolve()
          .then(() => recording.respond(emit))
          .then(
            (result) => {
              if (result !== HANG) ack(null, result);
            },
            (error: unknown) => ack(error instanceof LarderError ? error.toJSON() : error),
          );
      });
    }
  });
  if (!httpServer) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const recording: RecordingSocketServer = {
    url: `http://127.0.0.1:${port}`,
    io,
    emits,
    connections,
    respond,
    connectionCount: (count) =>
      connections.length >= count ? Promise.resolve() : new Promise((resolve) => countWaiters.push({ count, resolve })),
    close: async () => {
      io.disconnectSockets(true);
      await io.close();
    },
  };
  return recording;
}
