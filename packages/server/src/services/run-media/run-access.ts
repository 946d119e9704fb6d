/**
 * A run's media are read and written through the run: whoever may read the run reads its
 * images and histograms, whoever may log to it adds them, checked against the run's folder
 * policy at each call (so sharing or moving the run takes effect at once). A run the caller
 * may not see answers exactly as a run that does not exist.
 */
import { and, eq, LarderError } from '@larder/protocol';
import type { Actor } from '../../auth/actor.js';
import { folderPolicy } from '../../auth/folder-policy.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import { RUNS_COLLECTION } from '../runs/runs-service.js';

export class RunAccess {
  constructor(private readonly store: DocumentStore) {}

  /** The run, when the actor may read it; NotFound otherwise. */
  async readable(actor: Actor, runId: unknown): Promise<StoredDocument> {
    if (typeof runId !== 'string' || runId === '' || runId.length > 128) {
      throw new LarderError('BadRequest', 'Say which run: give "run" (its id)');
    }
    const [run] = await this.store.find(RUNS_COLLECTION, {
      filter: and(eq(['_id'], runId), folderPolicy.readFilter(actor)),
      limit: 1,
    });
    if (!run) throw new LarderError('NotFound', `No run ${runId.slice(0, 128)} that you may see`);
    return run;
  }

  /** The run, when the actor may log to it; NotFound or Forbidden otherwise. */
  async writable(actor: Actor, runId: unknown): Promise<StoredDocument> {
    const run = await this.readable(actor, runId);
    const writable = await this.store.count(
      RUNS_COLLECTION,
      and(eq(['_id'], run._id), folderPolicy.writeFilter(actor)),
    );
    if (!writable) throw new LarderError('Forbidden', `You may read but not log to run ${run._id}`);
    return run;
  }
}
