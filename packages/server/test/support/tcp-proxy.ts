/**
 * A TCP proxy between a server under test and a real database, which a test can cut (every
 * connection dropped, new ones refused) and restore: a network fault without touching the
 * database that other suites share.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Drops every connection and stops accepting new ones. */
  cut(): Promise<void>;
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>;
  /**
   * Once `bytes` more bytes have gone from clients to the target, drops every open
   * connection (new ones are still accepted): a network that breaks mid-transfer.
   * Resolves when it has broken.
   */
  breakAfter(bytes: number): Promise<void>;
  /** The same, counting the bytes that go from the target to clients (a download that breaks). */
  breakDownstreamAfter(bytes: number): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  let pendingBreak: { remaining: number; downstream: boolean; broke: () => void } | undefined;

  const count = (length: number, downstream: boolean) => {
    if (!pendingBreak || pendingBreak.downstream !== downstream) return;
    pendingBreak.remaining -= length;
    if (pendingBreak.remaining > 0) return;
    const { broke } = pendingBreak;
    pendingBreak = undefined;
    for (const socket of sockets) socket.destroy();
    broke();
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const next = createServer((client) => {
        const upstream = connect(targetPort, targetHost);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => {});
        }
        client.on('data', (chunk: Buffer) => count(chunk.length, false));
        upstream.on('data', (chunk: Buffer) => count(chunk.length, true));
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        const address = next.address();
        if (address && typeof address === 'object') port = address.port;
        server = next;
        resolve();
      });
    });

  const stop = async () => {
    const current = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
  };

  await listen();
  const breakAfter = (bytes: number, downstream = false) =>
    new Promise<void>((broke) => {
      pendingBreak = { remaining: bytes, downstream, broke };
    });

  return {
    port,
    cut: stop,
    restore: listen,
    close: stop,
    breakAfter: (bytes) => breakAfter(bytes),
    breakDownstreamAfter: (bytes) => breakAfter(bytes, true),
  };
}
