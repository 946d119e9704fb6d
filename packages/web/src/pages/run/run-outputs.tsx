/**
 * What a run made besides its own files and artifacts: a Marcelle run's checkpoints (tfjs or
 * ONNX model documents it lists) and assets (`/assets` documents with a `url`), and the
 * registry versions linked `producedBy` it. Marcelle's clients write these lists themselves,
 * so every entry is read defensively.
 */
import { api } from '../../api/api-client.js';
import type { QueryValue } from '../../api/query-string.js';
import { useLoad } from '../../components/use-load.js';
import { Link } from '../../router/router.js';

/** A checkpoint as a Marcelle run lists it, once uploaded. */
export interface CheckpointEntry {
  id: string;
  service: string;
  name: string;
  epoch?: number | string;
}

/** An asset as a Marcelle run lists it. */
export interface AssetEntry {
  id?: string;
  url?: string;
  filename: string;
  epoch?: number;
}

interface ModelDocument {
  _id: string;
  name?: string;
  files?: [string, string][];
  registry?: { versionId?: string };
}

interface ModelVersion {
  _id: string;
  modelId: string;
  version: number;
}

const SERVICES = new Set(['tfjs-models', 'onnx-models']);
const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const encodePath = (path: string) => path.split('/').map(encodeURIComponent).join('/');

/** The uploaded checkpoints of a Marcelle run (`checkpoints: [{ id, service, name, metadata }]`). */
export function checkpointsOf(value: unknown): CheckpointEntry[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry): CheckpointEntry[] => {
    if (!isObject(entry)) return [];
    const id = entry.id ?? entry._id;
    const service = typeof entry.service === 'string' ? entry.service : 'tfjs-models';
    if (typeof id !== 'string' || !SERVICES.has(service)) return [];
    const epoch = isObject(entry.metadata) ? entry.metadata.epoch : undefined;
    return [
      {
        id,
        service,
        name: typeof entry.name === 'string' ? entry.name : id,
        ...(typeof epoch === 'number' || typeof epoch === 'string' ? { epoch } : {}),
      },
    ];
  });
}

/** The assets of a Marcelle run (`assets: [{ id, url, filename, epoch }]`). */
export function assetsOf(value: unknown): AssetEntry[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry): AssetEntry[] => {
    if (!isObject(entry) || (typeof entry.url !== 'string' && typeof entry.id !== 'string')) return [];
    const url = typeof entry.url === 'string' ? entry.url : undefined;
    const filename = typeof entry.filename === 'string' ? entry.filename : (url?.split('/').at(-1) ?? String(entry.id));
    return [
      {
        filename,
        ...(url ? { url } : {}),
        ...(typeof entry.id === 'string' ? { id: entry.id } : {}),
        ...(typeof entry.epoch === 'number' ? { epoch: entry.epoch } : {}),
      },
    ];
  });
}

/** One asset of a Marcelle run, downloaded through `GET /assets/<sha256>/<file>`. */
export function MarcelleAsset({ asset }: { asset: AssetEntry }) {
  const document = useLoad(
    async (signal) =>
      asset.url ?? (asset.id ? (await api.get<{ url?: string }>('assets', asset.id, signal)).url : undefined),
    [asset.url, asset.id],
  );
  const url = document.value;
  return (
    <li>
      {url ? (
        <button type="button" class="link" onClick={() => api.download(`/assets/${encodePath(url)}`, asset.filename)}>
          {asset.filename}
        </button>
      ) : (
        <span>{asset.filename}</span>
      )}{' '}
      <span class="muted">
        asset{asset.epoch !== undefined ? ` · epoch ${asset.epoch}` : ''}
        {document.state === 'failed' ? ' · not visible to you' : ''}
      </span>
    </li>
  );
}

function Checkpoint({ checkpoint }: { checkpoint: CheckpointEntry }) {
  const loaded = useLoad(
    (signal) => api.get<ModelDocument>(checkpoint.service, checkpoint.id, signal),
    [checkpoint.service, checkpoint.id],
  );
  const format = checkpoint.service.replace(/-models$/, '');
  if (loaded.state === 'loading') return null;
  if (loaded.state === 'failed') {
    return <li class="muted">checkpoint {checkpoint.name}: not visible to you</li>;
  }
  const model = loaded.value;
  return (
    <li class="artifact">
      <strong>{model.name ?? checkpoint.name}</strong>{' '}
      <span class="muted">
        (checkpoint, {format}
        {checkpoint.epoch !== undefined ? `, epoch ${checkpoint.epoch}` : ''})
      </span>
      <ul>
        {(Array.isArray(model.files) ? model.files : []).map(([filename]) => (
          <li key={filename}>
            <button
              type="button"
              class="link"
              onClick={() =>
                api.download(
                  `/${checkpoint.service}/${encodeURIComponent(model._id)}/${encodeURIComponent(filename)}`,
                  filename,
                )
              }
            >
              {filename}
            </button>
          </li>
        ))}
      </ul>
    </li>
  );
}

/**
 * The run's checkpoints, then the registry versions it produced (linked `producedBy` it, or
 * named as outputs by its associations); "No artifacts" when `empty` and there are none.
 */
export function RunOutputs({
  runId,
  checkpoints,
  outputVersions,
  empty,
}: {
  runId: string;
  checkpoints: CheckpointEntry[];
  /** Model versions the run's associations name as outputs. */
  outputVersions: string[];
  empty: boolean;
}) {
  const versions = useLoad(
    async (signal) => {
      const produced: QueryValue[] | null =
        outputVersions.length > 0 ? [{ producedBy: runId }, { _id: { $in: outputVersions } }] : null;
      const page = await api.find<ModelVersion>(
        'model-versions',
        { ...(produced ? { $or: produced } : { producedBy: runId }), $select: ['modelId', 'version'], $limit: 200 },
        signal,
      );
      const modelIds = [...new Set(page.data.map((version) => version.modelId))];
      const models =
        modelIds.length === 0
          ? { data: [] }
          : await api.find<{ _id: string; name: string }>(
              'models',
              { _id: { $in: modelIds }, $select: ['name'], $limit: modelIds.length },
              signal,
            );
      const names = new Map(models.data.map((model) => [model._id, model.name]));
      return page.data.map((version) => ({ ...version, modelName: names.get(version.modelId) ?? version.modelId }));
    },
    [runId, outputVersions.join(',')],
  );
  const produced = versions.value ?? [];
  if (empty && checkpoints.length === 0 && versions.state !== 'loading' && produced.length === 0) {
    return <p class="muted">No artifacts.</p>;
  }
  return (
    <ul class="artifacts">
      {checkpoints.map((checkpoint) => (
        <Checkpoint key={checkpoint.id} checkpoint={checkpoint} />
      ))}
      {produced.map((version) => (
        <li key={version._id} class="artifact">
          <Link href={`/models/${encodeURIComponent(version.modelId)}`}>
            {version.modelName} v{version.version}
          </Link>{' '}
          <span class="muted">(model version produced by this run)</span>
        </li>
      ))}
    </ul>
  );
}
