/**
 * Marcelle's runs, written through `/runs` and read back as written, also appear in Larder
 * as runs:
 * - `params` are mirrored into `hparams` (what Larder's dashboard and queries read);
 * - per-epoch `logs` (`{ loss: [..], val_loss: [..] }`) are appended to the metric store
 *   through the `/metrics` service, one point per epoch (`val_*` as type `val`, the others
 *   as `train`); appends start at offset 0, so points already held are skipped;
 * - checkpoints listed in the run are linked to their registry versions (`producedBy`).
 * And two compatibility fixes for Marcelle's Python client 0.0.4: a run it creates has no
 * `name` (it gets `<source>-<start>`), and it sorts on `$updatedAt` (read as `updatedAt`).
 */
import type { HookContext } from '@feathersjs/feathers';
import type { FeatureContext } from '../../app/feature.js';
import type { StoredDocument } from '../../stores/document-store.js';
import type { RegistryBridge } from './registry-bridge.js';

type Fields = Record<string, unknown>;

// biome-ignore lint/suspicious/noControlCharactersInRegex: metric names refuse control characters
const BAD_METRIC_CHARACTERS = /[\u0000-\u001f\u007f.$]/g;

function isObject(value: unknown): value is Fields {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A run as Marcelle's clients write it: a `source` and a start date (`start`, or 0.0.4's `run_start_at`). */
export function isMarcelleRun(data: unknown): data is Fields {
  if (!isObject(data)) return false;
  return typeof data.source === 'string' && (typeof data.start === 'string' || typeof data.run_start_at === 'string');
}

function startOf(run: Fields): string {
  return String(run.start ?? run.run_start_at);
}

/** `val_loss` → (`val`, `loss`); `loss` → (`train`, `loss`). */
export function metricKey(logName: string): { type: string; name: string } {
  const cleaned = logName.replace(BAD_METRIC_CHARACTERS, '_').slice(0, 128);
  if (cleaned.startsWith('val_') && cleaned.length > 4) return { type: 'val', name: cleaned.slice(4) };
  return { type: 'train', name: cleaned || '_' };
}

/** The `/metrics` batch for a run's logs, one point per epoch (steps and epochs 1, 2, …). */
export function logsAsSeries(logs: unknown) {
  if (!isObject(logs)) return [];
  return Object.entries(logs)
    .filter((entry): entry is [string, unknown[]] => Array.isArray(entry[1]) && entry[1].length > 0)
    .map(([logName, values]) => {
      const epochs = values.map((_, index) => index + 1);
      return {
        ...metricKey(logName),
        offset: 0,
        steps: epochs,
        epochs,
        values: values.map((value) => (typeof value === 'number' && Number.isFinite(value) ? value : null)),
      };
    });
}

export function installMarcelleRuns(context: FeatureContext, bridge: RegistryBridge): void {
  const { app, log } = context;

  const mirrorParams = (hook: HookContext) => {
    const items: unknown[] = Array.isArray(hook.data) ? hook.data : [hook.data];
    for (const item of items) {
      if (!isMarcelleRun(item)) continue;
      if (hook.method === 'create' && item.name === undefined) {
        item.name = `${String(item.basename ?? item.source)}-${startOf(item)}`.replace(/[/\\]/g, '-').slice(0, 256);
      }
      if (isObject(item.params)) item.hparams = structuredClone(item.params);
    }
  };

  const readMarcelleSorts = (hook: HookContext) => {
    const query = hook.params.query as Fields | undefined;
    if (!query || !isObject(query.$sort)) return;
    query.$sort = Object.fromEntries(
      Object.entries(query.$sort).map(([field, direction]) => [
        field.replace(/^\$(createdAt|updatedAt)$/, '$1'),
        direction,
      ]),
    );
  };

  const recordLogs = async (hook: HookContext) => {
    const written: unknown[] = Array.isArray(hook.data) ? hook.data : [hook.data];
    const runs = (Array.isArray(hook.result) ? hook.result : [hook.result]) as StoredDocument[];
    for (const [index, run] of runs.entries()) {
      const data = (written.length === runs.length ? written[index] : written[0]) as Fields | undefined;
      if (!run?._id || !isObject(data)) continue;
      const series = logsAsSeries(data.logs);
      try {
        if (series.length > 0) await app.service('metrics').create({ run: run._id, series }, {});
        if (Array.isArray(data.checkpoints))
          await bridge.linkCheckpoints({ ...run, checkpoints: data.checkpoints }, hook.params);
      } catch (error) {
        log(`marcelle: metrics of run ${run._id}: ${(error as Error)?.message ?? String(error)}`);
      }
    }
  };

  app.service('runs').hooks({
    before: { find: [readMarcelleSorts], create: [mirrorParams], update: [mirrorParams], patch: [mirrorParams] },
    after: { create: [recordLogs], update: [recordLogs], patch: [recordLogs] },
  });
}
