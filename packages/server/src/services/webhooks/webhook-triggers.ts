/**
 * What makes a webhook fire, read from the services' own realtime events (so writes from
 * every transport, every feature and, through Redis, every instance are seen):
 * - `model-versions` created: `model.version.created`;
 * - `models` created, patched or updated with an alias (other than the automatic `latest`)
 *   newly set or moved: `model.alias.set`. Events carry only the record after the write, so
 *   the aliases last seen are kept per model (`_webhook_alias_state`); the modify that moves
 *   that state decides which instance reports the change;
 * - `runs` created, patched or updated into a final status: `run.finished` (Complete) or
 *   `run.failed` (Failed, Interrupted);
 * - `dataset-versions` patched to `published`: `dataset.version.published`.
 */
import { eq, LarderError } from '@larder/protocol';
import type { FeathersApp } from '../../app/feathers-app.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import type { WebhookOccurrence } from './webhook-events.js';

const ALIAS_STATE = '_webhook_alias_state';
const FINISHED = new Set(['Complete', 'Completed', 'Succeeded', 'Finished', 'FINISHED']);
const FAILED = new Set(['Failed', 'FAILED', 'Interrupted', 'KILLED', 'Killed']);

type Enqueue = (occurrence: WebhookOccurrence) => Promise<void>;
type Listener = (record: StoredDocument) => Promise<void>;

function listen(app: FeathersApp, path: string, events: string[], listener: Listener, log: (line: string) => void) {
  const service = app.service(path) as unknown as { on(event: string, handler: (data: unknown) => void): void };
  for (const event of events) {
    service.on(event, (data: unknown) => {
      const records = (Array.isArray(data) ? data : [data]) as StoredDocument[];
      for (const record of records) {
        if (record?._id) listener(record).catch((error) => log(`error: webhooks (${path} ${event}): ${error}`));
      }
    });
  }
}

function aliasesOf(record: Record<string, unknown> | undefined): Record<string, number> {
  const aliases = record?.aliases;
  if (aliases === null || typeof aliases !== 'object' || Array.isArray(aliases)) return {};
  return Object.fromEntries(Object.entries(aliases).filter(([, version]) => typeof version === 'number')) as Record<
    string,
    number
  >;
}

export function installWebhookTriggers(
  app: FeathersApp,
  store: DocumentStore,
  enqueue: Enqueue,
  log: (line: string) => void,
): void {
  listen(
    app,
    'model-versions',
    ['created'],
    (version) =>
      enqueue({
        event: 'model.version.created',
        key: `version:${version._id}`,
        collection: 'model-versions',
        record: version,
        data: {
          modelId: version.modelId,
          modelName: version.modelName,
          version: version.version,
          versionId: version._id,
        },
        text: `Model ${String(version.modelName ?? version.modelId)}: version ${String(version.version)} pushed`,
      }),
    log,
  );

  listen(
    app,
    'models',
    ['created', 'patched', 'updated'],
    async (model) => {
      const now = aliasesOf(model);
      await store.ensureCollection(ALIAS_STATE);
      try {
        await store.insert(ALIAS_STATE, [{ _id: model._id, aliases: {}, changes: 0 }]);
      } catch (error) {
        if (!(error instanceof LarderError && error.name === 'Conflict')) throw error;
      }
      let moved: [string, number, number | undefined][] = [];
      let changes = 0;
      await store.modify(ALIAS_STATE, eq(['_id'], model._id), (state) => {
        const before = aliasesOf(state);
        const diff = Object.entries(now)
          .filter(([alias, version]) => alias !== 'latest' && before[alias] !== version)
          .map(([alias, version]): [string, number, number | undefined] => [alias, version, before[alias]]);
        const unchanged =
          Object.keys(before).length === Object.keys(now).length &&
          Object.entries(before).every(([alias, version]) => now[alias] === version);
        if (unchanged) return state;
        moved = diff;
        changes = Number(state.changes ?? 0) + 1;
        return { ...state, aliases: now, changes };
      });
      for (const [alias, version, previous] of moved) {
        await enqueue({
          event: 'model.alias.set',
          key: `alias:${model._id}:${changes}:${alias}`,
          collection: 'models',
          record: model,
          data: { modelId: model._id, modelName: model.name, alias, version, previousVersion: previous ?? null },
          text:
            previous === undefined
              ? `Model ${String(model.name)}: alias ${alias} set to version ${version}`
              : `Model ${String(model.name)}: alias ${alias} moved from version ${previous} to ${version}`,
        });
      }
    },
    log,
  );

  listen(
    app,
    'runs',
    ['created', 'patched', 'updated'],
    async (run) => {
      const status = typeof run.status === 'string' ? run.status : '';
      const event = FINISHED.has(status) ? 'run.finished' : FAILED.has(status) ? 'run.failed' : undefined;
      if (!event) return;
      await enqueue({
        event,
        key: `run:${run._id}:${status}`,
        collection: 'runs',
        record: run,
        data: { runId: run._id, name: run.name, folder: run.folder, status, endTime: run.endTime ?? null },
        text: `Run ${String(run.folder ?? '')}/${String(run.name ?? run._id)} ${event === 'run.finished' ? 'finished' : `ended: ${status}`}`,
      });
    },
    log,
  );

  listen(
    app,
    'dataset-versions',
    ['patched'],
    async (version) => {
      if (version.published !== true) return;
      await enqueue({
        event: 'dataset.version.published',
        key: `published:${version._id}`,
        collection: 'dataset-versions',
        record: version,
        data: { datasetId: version.datasetId, versionId: version._id, name: version.name ?? null },
        text: `Dataset version ${String(version.name ?? version._id)} published`,
      });
    },
    log,
  );
}
