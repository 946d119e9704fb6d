/** The caller and query of a call to one of the datalake's custom services. */
import { LarderError } from '@larder/protocol';
import { notAuthenticated } from '../../auth/access-policy.js';
import { type Actor, actorOf } from '../../auth/actor.js';
import type { DocumentParams } from '../documents/document-service.js';

export function signedInActor(params: DocumentParams | undefined, authEnabled: boolean): Actor {
  const actor = actorOf(params ?? {}, authEnabled);
  if (actor.kind === 'anonymous') throw notAuthenticated();
  return actor;
}

/** The query as an object (empty when absent). */
export function queryOf(params: DocumentParams | undefined): Record<string, unknown> {
  const query = params?.query;
  if (query === undefined || query === null) return {};
  if (typeof query !== 'object' || Array.isArray(query))
    throw new LarderError('BadRequest', 'The query must be an object');
  return query as Record<string, unknown>;
}

/** The body as an object. */
export function bodyOf(data: unknown, shape: string): Record<string, unknown> {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new LarderError('BadRequest', `Send ${shape}`);
  }
  return data as Record<string, unknown>;
}

/** A `$limit` within bounds (a string from a query string counts). */
export function pageLimit(value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 0) throw new LarderError('BadRequest', '$limit must be a whole number');
  return Math.min(limit, max);
}
