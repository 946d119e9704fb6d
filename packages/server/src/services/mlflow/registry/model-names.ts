/**
 * MLflow's registry names are global; Larder's are unique per owner. A name is resolved
 * relative to the caller: their own model of that name first, then the oldest one of that
 * name they may read (shared or public). Unreadable models are never found, so another
 * user's model of the same name is RESOURCE_DOES_NOT_EXIST, as if it did not exist.
 */
import { and, eq } from '@larder/protocol';
import { ownershipPolicy } from '../../../auth/access-policy.js';
import type { Actor } from '../../../auth/actor.js';
import type { DocumentStore, StoredDocument } from '../../../stores/document-store.js';
import { MODEL_VERSIONS_COLLECTION } from '../../registry/models-service.js';
import { MlflowError } from '../mlflow-errors.js';

const MODELS = 'models';

export async function modelNamed(store: DocumentStore, name: string, actor: Actor): Promise<StoredDocument> {
  if (actor.kind === 'user') {
    const [own] = await store.find(MODELS, {
      filter: and(eq(['name'], name), eq(['userId'], actor.user._id)),
      limit: 1,
    });
    if (own) return own;
  }
  const [readable] = await store.find(MODELS, {
    filter: and(eq(['name'], name), ownershipPolicy.readFilter(actor)),
    sort: [{ path: ['createdAt'], direction: 1 }],
    limit: 1,
  });
  if (!readable) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Registered Model with name=${name} not found`);
  return readable;
}

/** A version of a model by its number (MLflow sends it as a string). */
export async function versionNumbered(
  store: DocumentStore,
  model: StoredDocument,
  version: string,
): Promise<StoredDocument> {
  const number = Number(version);
  const missing = new MlflowError(
    'RESOURCE_DOES_NOT_EXIST',
    `Model Version (name=${model.name}, version=${version.slice(0, 40)}) not found`,
  );
  if (!/^\d+$/.test(version) || !Number.isSafeInteger(number)) {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `Parameter 'version' must be an integer, got '${version.slice(0, 40)}'.`,
    );
  }
  const [found] = await store.find(MODEL_VERSIONS_COLLECTION, {
    filter: and(eq(['modelId'], model._id), eq(['version'], number)),
    limit: 1,
  });
  if (!found) throw missing;
  return found;
}

/** Every version of a model, newest first. */
export async function versionsOf(store: DocumentStore, modelId: string): Promise<StoredDocument[]> {
  return store.find(MODEL_VERSIONS_COLLECTION, {
    filter: eq(['modelId'], modelId),
    sort: [{ path: ['version'], direction: -1 }],
  });
}
