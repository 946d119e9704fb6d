/**
 * For the services whose records belong to a run (metrics, console output): access follows
 * the run, checked against its folder policy at each call. A run the actor may not read
 * answers exactly as a run that does not exist; a reader who may not write is told so.
 */
import { and, eq, LarderError } from '@larder/protocol';
import type { AccessPolicy } from '../../auth/access-policy.js';
import type { Actor } from '../../auth/actor.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { RUNS_COLLECTION } from './runs-service.js';

/** The run, if the actor may read it; NotFound otherwise. */
export async function readableRun(
  store: DocumentStore,
  policy: AccessPolicy,
  actor: Actor,
  id: string,
): Promise<StoredDocument> {
  const [readable] = await store.find(RUNS_COLLECTION, {
    filter: and(eq(['_id'], id), policy.readFilter(actor)),
    limit: 1,
  });
  if (!readable) throw new LarderError('NotFound', `No run ${id} that you may see`);
  return readable;
}

/** The run, if the actor may read and write it; NotFound, or Forbidden with `forbidden`, otherwise. */
export async function writableRun(
  store: DocumentStore,
  policy: AccessPolicy,
  actor: Actor,
  id: string,
  forbidden: string,
): Promise<StoredDocument> {
  const readable = await readableRun(store, policy, actor, id);
  if (!(await store.count(RUNS_COLLECTION, and(eq(['_id'], id), policy.writeFilter(actor))))) {
    throw new LarderError('Forbidden', forbidden);
  }
  return readable;
}
