/**
 * Marcelle model documents written while garbage collections run: a whole collection before
 * each call a create makes, by a user and by the server itself (the registry bridge's mirror
 * of a version), and before each call a user's update or patch of the files makes, on SQLite
 * + a folder and PostgreSQL + S3. No document is ever seen naming a deleted blob, and a
 * refused write leaves nothing (a refused change leaves the document as it was).
 */
import { eq } from '@larder/protocol';
import { describe, expect, it } from 'vitest';
import type { Actor, UserRecord } from '../../auth/actor.js';
import { collectAtEveryStep, oldBlob, type Stores } from '../../blobs/test-support/collection-at-every-step.js';
import { openEachTest, storeAndBlobSetups } from '../../blobs/test-support/store-and-blobs.js';
import type { DocumentParams } from '../documents/document-service.js';
import { MarcelleModelsService, modelsPath } from './marcelle-models-service.js';

const user: UserRecord = { _id: 'writer', email: 'writer@example.com', role: 'user' };
const actor: Actor = { kind: 'user', user };
const asUser = { provider: 'rest', user };
const WRITERS: [string, DocumentParams][] = [
  ['a user', asUser],
  ['the server', {}],
];
const TFJS = modelsPath('tfjs');

function documents({ store, blobs }: Stores): MarcelleModelsService {
  return new MarcelleModelsService(store, blobs, true, 'tfjs');
}

describe.each(storeAndBlobSetups('marcelleblobs', 's3'))(
  'Marcelle models naming blobs being collected, on %s',
  (_name, make) => {
    const open = openEachTest(make);

    it.each(WRITERS)('a model created by %s never names a deleted blob', async (_writer, params) => {
      const stores = await open();
      await collectAtEveryStep({
        stores,
        watched: [TFJS],
        prepare: async () => ({ blob: await oldBlob(stores, actor) }),
        write: (stepped, { blob }, run) =>
          documents(stepped).create(
            { name: run, userId: user._id, format: 'tfjs', files: [['model.json', blob.sha256]], metadata: {} },
            params,
          ),
        leftNothing: async (_input, run) => {
          expect(await stores.store.count(TFJS, eq(['name'], run))).toBe(0);
        },
      });
    });

    const changes: [string, (service: MarcelleModelsService, id: string, sha256: string) => Promise<unknown>][] = [
      ['an update', (service, id, sha256) => service.update(id, { name: id, files: [['model.json', sha256]] }, asUser)],
      ['a patch', (service, id, sha256) => service.patch(id, { files: [['model.json', sha256]] }, asUser)],
    ];

    it.each(changes)("%s of a model's files never leaves it naming a deleted blob", async (_change, change) => {
      const stores = await open();
      await collectAtEveryStep({
        stores,
        watched: [TFJS],
        prepare: async (run) => {
          await documents(stores).create({ _id: run, name: run, format: 'tfjs', files: [] }, asUser);
          return { blob: await oldBlob(stores, actor) };
        },
        write: (stepped, { blob }, run) => change(documents(stepped), run, blob.sha256),
        leftNothing: async (_input, run) => {
          const [after] = await stores.store.find(TFJS, { filter: eq(['_id'], run) });
          expect(after?.files).toEqual([]);
        },
      });
    });
  },
);
