/**
 * Feathers' socket transport listens, on each new connection, only for the methods of the
 * services registered at that moment. Dynamic services appear later, so with no other
 * service present (auth off, empty store) a socket would ignore every call. This service,
 * at a path that is not a valid service name (so no client can reach it), keeps all six
 * methods listened for.
 */
import { LarderError } from '@larder/protocol';

export const SOCKET_METHODS_ANCHOR_PATH = '__larder-socket-methods';

function unreachable(): never {
  throw new LarderError('NotFound', 'Not a service');
}

export class SocketMethodsAnchor {
  async find(): Promise<never> {
    return unreachable();
  }
  async get(): Promise<never> {
    return unreachable();
  }
  async create(): Promise<never> {
    return unreachable();
  }
  async update(): Promise<never> {
    return unreachable();
  }
  async patch(): Promise<never> {
    return unreachable();
  }
  async remove(): Promise<never> {
    return unreachable();
  }
}
