/**
 * Registry writes that name blobs while garbage collections run: a whole collection before
 * each call a version push, a model create, patch or update makes, by a user and by the
 * server itself (MLflow's pushes are internal), on SQLite + a folder and PostgreSQL + S3.
 * No version or model is ever seen naming a deleted blob, and a refused write leaves nothing.
 */
import { eq } from '@larder/protocol';
import { describe, expect, it } from 'vitest';
import type { Actor, UserRecord } from '../../auth/actor.js';
import { collectAtEveryStep, oldBlob, type Stores } from '../../blobs/test-support/collection-at-every-step.js';
import { openEachTest, storeAndBlobSetups } from '../../blobs/test-support/store-and-blobs.js';
import type { StoredDocument } from '../../stores/document-store.js';
import type { DocumentParams } from '../documents/document-service.js';
import { MODELS_COLLECTION } from './model-record.js';
import { ModelVersionsService } from './model-versions-service.js';
import { MODEL_VERSIONS_COLLECTION, ModelsService } from './models-service.js';

const user: UserRecord = { _id: 'writer', email: 'writer@example.com', role: 'user' };
const actor: Actor = { kind: 'user', user };
const WRITERS: [string, DocumentParams][] = [
  ['a user', { provider: 'rest', user }],
  ['the server', {}],
];
const WATCHED = [MODELS_COLLECTION, MODEL_VERSIONS_COLLECTION];

function registry({ store, blobs }: Stores) {
  const models = new ModelsService({
    store,
    blobs,
    authEnabled: true,
    emitPatched: () => {},
    removeVersions: async () => {},
  });
  const versions = new ModelVersionsService({ store, blobs, authEnabled: true, models, emitPatched: () => {} });
  return { models, versions };
}

describe.each(storeAndBlobSetups('regblobs', 's3'))(
  'registry writes naming blobs being collected, on %s',
  (_n, make) => {
    const open = openEachTest(make);

    it.each(WRITERS)('a version pushed by %s never names a deleted blob', async (_writer, params) => {
      const stores = await open();
      const model = await registry(stores).models.create({ name: 'net' }, { provider: 'rest', user });
      await collectAtEveryStep({
        stores,
        watched: WATCHED,
        prepare: async () => ({ blob: await oldBlob(stores, actor) }),
        write: (stepped, { blob }, run) =>
          registry(stepped).versions.create(
            {
              format: 'mlflow',
              modelId: model._id,
              files: [{ path: 'MLmodel', ...blob }],
              description: run,
              mlflow: { source: 'runs:/0123/model' },
            },
            params,
          ),
        leftNothing: async (_input, run) => {
          expect(await stores.store.count(MODEL_VERSIONS_COLLECTION, eq(['description'], run))).toBe(0);
        },
      });
    });

    it.each(WRITERS)('a model created with files by %s never names a deleted blob', async (_writer, params) => {
      const stores = await open();
      await collectAtEveryStep({
        stores,
        watched: WATCHED,
        prepare: async () => ({ blob: await oldBlob(stores, actor) }),
        write: (stepped, { blob }, run) =>
          registry(stepped).models.create(
            { name: `m-${run}`, userId: user._id, files: { weights: { ...blob, filename: 'weights.bin' } } },
            params,
          ),
        leftNothing: async (_input, run) => {
          expect(await stores.store.count(MODELS_COLLECTION, eq(['name'], `m-${run}`))).toBe(0);
          // The name was given back: the model can be created again.
          await registry(stores).models.create({ name: `m-${run}` }, { provider: 'rest', user });
        },
      });
    });

    const changes: [string, (models: ModelsService, id: string, file: object, run: string) => Promise<unknown>][] = [
      ['a patch', (models, id, file) => models.patch(id, { 'files.weights': file }, { provider: 'rest', user })],
      [
        'an update',
        (models, id, file, run) =>
          models.update(id, { name: `m-${run}`, files: { weights: file } }, { provider: 'rest', user }),
      ],
    ];

    it.each(changes)("%s of a model's files never leaves it naming a deleted blob", async (_change, change) => {
      const stores = await open();
      await collectAtEveryStep({
        stores,
        watched: WATCHED,
        prepare: async (run) => {
          const model = await registry(stores).models.create({ name: `m-${run}` }, { provider: 'rest', user });
          return { blob: await oldBlob(stores, actor), model };
        },
        write: (stepped, { blob, model }, run) =>
          change(registry(stepped).models, model._id, { ...blob, filename: 'weights.bin' }, run),
        leftNothing: async ({ model }) => {
          const [after] = await stores.store.find(MODELS_COLLECTION, { filter: eq(['_id'], model._id) });
          expect((after as StoredDocument).files ?? {}).toEqual({});
        },
      });
    });
  },
);
