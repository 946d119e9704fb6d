/**
 * The access policy of everything that lives in folders (folders, runs, artifacts). On top
 * of ownership (`userId`, `public`), a record carries the principals its folders grant:
 * `access.readers` and `access.writers`, lists of `user:<id>` and `org:<id>`, computed from
 * the folder chain when the record is placed and recomputed when a folder's shares change
 * (`folder-tree.ts`). So sharing a folder with an organisation reaches everything under it,
 * and the check stays one filter, run as SQL and in memory like every other policy.
 */
import { eq, type Filter, MATCH_ALL, not, or } from '@larder/protocol';
import { type AccessPolicy, ownershipPolicy } from './access-policy.js';
import { type Actor, isAllPowerful } from './actor.js';

export type AccessLists = {
  readers: string[];
  writers: string[];
};

const NOTHING: Filter = not(MATCH_ALL);

/** What the actor is, as principals: `user:<id>` and one `org:<id>` per organisation. */
export function principalsOf(actor: Actor): string[] {
  if (actor.kind !== 'user') return [];
  const organizations = Array.isArray(actor.user.organizations) ? actor.user.organizations : [];
  return [
    `user:${actor.user._id}`,
    ...organizations.filter((id): id is string => typeof id === 'string').map((id) => `org:${id}`),
  ];
}

export const folderPolicy: AccessPolicy = {
  readFilter(actor) {
    if (isAllPowerful(actor)) return MATCH_ALL;
    if (actor.kind !== 'user') return NOTHING;
    const principals = principalsOf(actor);
    return or(
      eq(['userId'], actor.user._id),
      eq(['public'], true),
      ...principals.flatMap((principal) => [
        eq(['access', 'readers'], principal),
        eq(['access', 'writers'], principal),
      ]),
    );
  },
  writeFilter(actor) {
    if (isAllPowerful(actor)) return MATCH_ALL;
    if (actor.kind !== 'user') return NOTHING;
    return or(
      eq(['userId'], actor.user._id),
      ...principalsOf(actor).map((principal) => eq(['access', 'writers'], principal)),
    );
  },
  canCreate: ownershipPolicy.canCreate,
  stampOnCreate: ownershipPolicy.stampOnCreate,
};

export function mergeAccess(...lists: AccessLists[]): AccessLists {
  const readers = new Set<string>();
  const writers = new Set<string>();
  for (const list of lists) {
    for (const reader of list.readers) readers.add(reader);
    for (const writer of list.writers) writers.add(writer);
  }
  for (const writer of writers) readers.delete(writer);
  return { readers: [...readers].sort(), writers: [...writers].sort() };
}
