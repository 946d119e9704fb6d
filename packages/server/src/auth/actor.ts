/**
 * Who is calling: the server itself (internal calls), a signed-in user, or nobody.
 * With auth switched off every external caller is the local owner of everything.
 */
export interface UserRecord {
  _id: string;
  email: string;
  role: 'admin' | 'user';
  name?: string;
  [key: string]: unknown;
}

export type Actor =
  | { kind: 'internal' }
  | { kind: 'local-owner' }
  | { kind: 'anonymous' }
  | { kind: 'user'; user: UserRecord };

export interface ActorParams {
  provider?: string;
  user?: UserRecord;
}

/** The actor behind a service call's params, given whether auth is on. */
export function actorOf(params: ActorParams, authEnabled: boolean): Actor {
  if (!params.provider) return { kind: 'internal' };
  if (!authEnabled) return { kind: 'local-owner' };
  if (params.user) return { kind: 'user', user: params.user };
  return { kind: 'anonymous' };
}

/** Whether the actor may see and change everything. */
export function isAllPowerful(actor: Actor): boolean {
  return (
    actor.kind === 'internal' || actor.kind === 'local-owner' || (actor.kind === 'user' && actor.user.role === 'admin')
  );
}
