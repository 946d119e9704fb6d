/**
 * Finding a registry model by name and one of its versions by number or alias, the same
 * way wherever a model is named: the registry itself and experiments cloned from a model.
 * A name is yours when you have a model of that name, else the one shared with you.
 */
import { LarderError } from '@larder/protocol';
import type { DataStore } from '../datastore/data-store.js';
import type { ModelRecord, ModelVersionRecord } from './model-records.js';
import { parseVersionReference, type VersionReference } from './model-reference.js';

/**
 * The model named `name`; NotFound when you may read none, Conflict when several are shared with you.
 *
 * @example
 * const model = await findModelByName(store, 'mnist-cnn', () => whoami());
 */
export async function findModelByName(
  store: DataStore,
  name: string,
  whoami: () => Promise<string | null>,
): Promise<ModelRecord> {
  const { data } = await store.service<ModelRecord>('models').find({ query: { name, $limit: 50 } });
  if (data.length === 1) return data[0] as ModelRecord;
  if (data.length === 0) throw new LarderError('NotFound', `No model named "${name}" that you may read`);
  const me = await whoami();
  const own = data.find((model) => model.userId === me);
  if (own) return own;
  throw new LarderError(
    'Conflict',
    `${data.length} models named "${name}" are shared with you: select one by id (${data.map((model) => model._id).join(', ')})`,
  );
}

/**
 * The version `reference` (a number, `v3`, or an alias such as `latest`) of `model`.
 *
 * @example
 * const { number, version } = await findModelVersion(store, model, 'production');
 */
export async function findModelVersion(
  store: DataStore,
  model: ModelRecord,
  reference: VersionReference,
): Promise<{ number: number; version: ModelVersionRecord }> {
  const parsed = parseVersionReference(reference);
  const aliases = model.aliases ?? {};
  const number = typeof parsed === 'number' ? parsed : Object.hasOwn(aliases, parsed) ? aliases[parsed] : undefined;
  if (number === undefined) {
    const known = Object.keys(aliases);
    throw new LarderError(
      'NotFound',
      `Model "${model.name}" has no alias "${parsed}"${known.length > 0 ? ` (its aliases: ${known.join(', ')})` : ' (it has no versions yet)'}`,
    );
  }
  const { data } = await store
    .service<ModelVersionRecord>('model-versions')
    .find({ query: { modelId: model._id, version: number, $limit: 1 } });
  const version = data[0];
  if (!version) throw new LarderError('NotFound', `Model "${model.name}" has no version ${number}`);
  return { number, version };
}
