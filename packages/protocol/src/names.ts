/**
 * Rules for the names users choose: service names (which become URL paths and socket
 * event prefixes) and record ids.
 */
import { LarderError } from './errors.js';

/** Letters, digits, `-` and `_`, starting with a letter or digit, 1–64 chars: one URL segment. */
const SERVICE_NAME = /^[a-z0-9][a-z0-9_-]*$/i;
const RECORD_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;

/** Names that belong to Larder itself and are never dynamic document services. */
export const RESERVED_SERVICE_NAMES: ReadonlySet<string> = new Set([
  'authentication',
  'users',
  'api-keys',
  'blobs',
  'info',
  'health',
  'whoami',
  'socket.io',
  // MLflow's server answers these at the root; its clients probe them (`/version` decides
  // whether spans go to `/v1/traces`), so they must answer as an unknown path, not as a
  // collection of documents.
  'version',
  'graphql',
  'v1',
]);

export function isValidServiceName(name: string): boolean {
  return name.length > 0 && name.length <= 64 && SERVICE_NAME.test(name);
}

/** Throws a BadRequest naming the rule when `name` cannot be a service name. */
export function assertServiceName(name: string): void {
  if (!isValidServiceName(name)) {
    throw new LarderError(
      'BadRequest',
      `Invalid service name "${name.slice(0, 80)}": use 1-64 letters, digits, "-" or "_", starting with a letter or digit`,
    );
  }
}

export function isValidRecordId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= 128 && RECORD_ID.test(id);
}

export function assertRecordId(id: unknown): asserts id is string {
  if (!isValidRecordId(id)) {
    throw new LarderError(
      'BadRequest',
      'Invalid id: an id is a string of 1-128 letters, digits, ".", "_", ":", "@" or "-"',
    );
  }
}
