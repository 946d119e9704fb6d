/**
 * Access to user accounts: a user reads and changes only their own account; admins all.
 * Creating accounts is for admins, or for anyone when open sign-up is switched on.
 */
import { eq, MATCH_ALL, not } from '@larder/protocol';
import type { AccessPolicy } from './access-policy.js';
import { isAllPowerful } from './actor.js';

export function selfPolicy(openSignup: boolean): AccessPolicy {
  return {
    readFilter: (actor) =>
      isAllPowerful(actor) ? MATCH_ALL : actor.kind === 'user' ? eq(['_id'], actor.user._id) : not(MATCH_ALL),
    writeFilter: (actor) =>
      isAllPowerful(actor) ? MATCH_ALL : actor.kind === 'user' ? eq(['_id'], actor.user._id) : not(MATCH_ALL),
    canCreate: (actor) => isAllPowerful(actor) || openSignup,
    stampOnCreate: () => {},
  };
}
