/**
 * The socket.io edge, the counterpart of the Koa error handler and body limits: every packet
 * a client sends is checked against the JSON input limits before Feathers sees it (refused
 * with the same 400 as over REST), and every error acknowledged to a client is Larder's
 * error JSON only. Feathers' socket transport would otherwise send any error's own
 * properties, stack trace and server paths included.
 */
import type { Server } from 'socket.io';
import { assertJsonInput } from '../http/json-input-limits.js';
import { describeForLog, publicError } from '../http/public-error.js';

type Acknowledgement = (...answer: unknown[]) => void;

function guardPacket(log: (line: string) => void) {
  return (packet: unknown[], next: (error?: Error) => void): void => {
    const last = packet[packet.length - 1];
    const ack = typeof last === 'function' ? (last as Acknowledgement) : undefined;
    if (ack) {
      packet[packet.length - 1] = (error: unknown, ...rest: unknown[]) => {
        if (error === null || error === undefined) return ack(error, ...rest);
        const answer = publicError(error);
        if (answer.unexpected) log(`error: socket ${String(packet[0]).slice(0, 40)}: ${describeForLog(error)}`);
        return ack(answer.error.toJSON(), ...rest);
      };
    }
    try {
      assertJsonInput(ack ? packet.slice(1, -1) : packet.slice(1), 'The message');
    } catch (error) {
      // Dropped before any service runs; the caller hears why.
      ack?.(publicError(error).error.toJSON());
      return;
    }
    next();
  };
}

/** Installs the edge on every connection of `io`. */
export function guardSocketPackets(io: Server, log: (line: string) => void): void {
  io.on('connection', (socket) => socket.use(guardPacket(log)));
}
