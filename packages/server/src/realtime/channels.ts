/**
 * Realtime fan-out: every socket connection joins one channel, and each event goes only to
 * the connections whose user may read the record, by the service's own access policy (the
 * same check as for `get`). Secrets (password hashes, API key tokens) never travel.
 * Also sends Marcelle's `init` event on every new socket.
 */
import type { HookContext } from '@feathersjs/feathers';
import type { FeathersApp } from '../app/feathers-app.js';
import { canRead } from '../auth/access-policy.js';
import { actorOf, type UserRecord } from '../auth/actor.js';
import type { DocumentService } from '../services/documents/document-service.js';

const CONNECTIONS = 'connections';
const SECRET_FIELDS = ['password', 'token'];

interface Connection {
  user?: UserRecord;
}

function withoutSecrets(data: unknown): unknown {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return data;
  if (!SECRET_FIELDS.some((field) => field in data)) return data;
  const copy = { ...(data as Record<string, unknown>) };
  for (const field of SECRET_FIELDS) delete copy[field];
  return copy;
}

export function configureChannels(app: FeathersApp, authEnabled: boolean): void {
  app.on('connection', (connection: Connection) => {
    app.channel(CONNECTIONS).join(connection);
  });
  app.publish((data: unknown, context: HookContext) => {
    // `service`, not `self`: events re-emitted from Redis carry only the former.
    const service = context.service as Partial<DocumentService> | undefined;
    const policy = service?.policy;
    if (!policy) return;
    return app
      .channel(CONNECTIONS)
      .filter((connection: Connection) =>
        canRead(policy, actorOf({ provider: 'socketio', user: connection.user }, authEnabled), data),
      )
      .send(withoutSecrets(data));
  });
}
