/**
 * No existence oracle through chosen ids. Record ids share one space per collection, so a
 * create with a chosen `_id` that someone else's private record holds would answer 409
 * where a free id answers 201, telling that the record exists (pictures' ids even derive
 * from owner and hash). On a multi-user server Larder therefore chooses every new record's
 * id for ordinary users; admins (who see everything) and `--no-auth` servers may still
 * choose them, as Feathers clients expect. Applied to every external create, on every
 * transport, before any service code runs.
 */
import type { HookContext } from '@feathersjs/feathers';
import { assertRecordId, LarderError } from '@larder/protocol';
import { actorOf, isAllPowerful } from './actor.js';

function choosesId(item: unknown): boolean {
  return item !== null && typeof item === 'object' && !Array.isArray(item) && '_id' in item;
}

export function refuseChosenIds(authEnabled: boolean) {
  return (context: HookContext): void => {
    if (!context.params.provider || context.path === 'authentication') return;
    const items: unknown[] = Array.isArray(context.data) ? context.data : [context.data];
    const chosen = items.filter(choosesId);
    if (chosen.length === 0) return;
    // A malformed id gets the id rules' own sentence.
    for (const item of chosen) assertRecordId((item as { _id: unknown })._id);
    if (isAllPowerful(actorOf(context.params, authEnabled))) return;
    throw new LarderError(
      'BadRequest',
      'Larder chooses record ids on a multi-user server (a taken id would tell that someone else ' +
        'has that record): leave out "_id", and keep your own key in another field to query it',
    );
  };
}
