/**
 * The single permission check. Every service holds an access policy; every method on every
 * transport, and every realtime event, asks it. A policy answers filters, so the same rule
 * runs as SQL inside the store (find, get, multi patch/remove) and in memory (events).
 *
 * The ownership policy of document services: a record is owned by the user who created it
 * (`userId`); its owner reads and writes it; everyone signed in reads it when `public` is
 * true; admins read and write everything. Sharing widens reads, never writes.
 */
import { eq, type Filter, LarderError, MATCH_ALL, matchFilter, not, or } from '@larder/protocol';
import { type Actor, isAllPowerful } from './actor.js';

export interface AccessPolicy {
  /** Records the actor may read. */
  readFilter(actor: Actor): Filter;
  /** Records the actor may change or remove. */
  writeFilter(actor: Actor): Filter;
  /** Whether the actor may create records here at all. */
  canCreate(actor: Actor): boolean;
  /** Fields the server sets on a new record for this actor (e.g. `userId`). */
  stampOnCreate(actor: Actor, record: Record<string, unknown>): void;
}

const NOTHING: Filter = not(MATCH_ALL);

export const ownershipPolicy: AccessPolicy = {
  readFilter(actor) {
    if (isAllPowerful(actor)) return MATCH_ALL;
    if (actor.kind !== 'user') return NOTHING;
    return or(eq(['userId'], actor.user._id), eq(['public'], true));
  },
  writeFilter(actor) {
    if (isAllPowerful(actor)) return MATCH_ALL;
    if (actor.kind !== 'user') return NOTHING;
    return eq(['userId'], actor.user._id);
  },
  canCreate(actor) {
    return actor.kind !== 'anonymous';
  },
  stampOnCreate(actor, record) {
    if (actor.kind === 'user') {
      // Admins may create on behalf of someone; nobody else chooses the owner.
      if (actor.user.role !== 'admin' || typeof record.userId !== 'string') record.userId = actor.user._id;
    }
  },
};

/** Whether `actor` may read `record` under `policy` (used for realtime events). */
export function canRead(policy: AccessPolicy, actor: Actor, record: unknown): boolean {
  return matchFilter(record, policy.readFilter(actor));
}

/** The error for a caller who is not signed in where that is required. */
export function notAuthenticated(): LarderError {
  return new LarderError(
    'NotAuthenticated',
    'Sign in first: send "Authorization: Bearer <token>" (an API key or the accessToken from POST /authentication)',
  );
}
