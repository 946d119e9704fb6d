/** The run's files (`files.<name>`) and the artifacts it used or produced, to browse and download. */
import type { ComponentChildren } from 'preact';
import { api } from '../../api/api-client.js';
import { formatBytes } from '../../components/format.js';
import { useLoad } from '../../components/use-load.js';

interface RunFile {
  sha256: string;
  size: number;
  filename?: string;
}

interface ArtifactObject {
  path: string;
  size?: number;
  sha256?: string;
  uri?: string;
}

interface Artifact {
  _id: string;
  name: string;
  objects: ArtifactObject[];
  bytes: number;
}

const encodePath = (path: string) => path.split('/').map(encodeURIComponent).join('/');

/**
 * The run's named files. A deleted file stays in the record as `files.<name>: null` (a patch
 * to null deletes it), so entries without a file are skipped. `extra` lists other files the
 * run holds (a Marcelle run's assets) after its own.
 */
export function RunFiles({
  runId,
  files,
  extra,
}: {
  runId: string;
  files: Record<string, RunFile | null>;
  extra?: ComponentChildren;
}) {
  const entries = Object.entries(files).filter((entry): entry is [string, RunFile] => entry[1] !== null);
  if (entries.length === 0 && !extra) return <p class="muted">No files.</p>;
  return (
    <ul class="files">
      {entries.map(([name, file]) => (
        <li key={name}>
          <button
            type="button"
            class="link"
            onClick={() =>
              api.download(
                `/runs/${encodeURIComponent(runId)}/files/${encodeURIComponent(name)}`,
                file.filename ?? name,
              )
            }
          >
            {name}
          </button>{' '}
          <span class="muted">
            {file.filename ?? ''} · {formatBytes(file.size)}
          </span>
        </li>
      ))}
      {extra}
    </ul>
  );
}

function ArtifactCard({ id, direction }: { id: string; direction: string }) {
  const artifact = useLoad((signal) => api.get<Artifact>('artifacts', id, signal), [id]);
  if (artifact.state === 'loading') return null;
  if (artifact.state === 'failed') {
    return (
      <li class="muted">
        {direction} artifact {id}: not visible to you
      </li>
    );
  }
  const { value } = artifact;
  const base = `/artifacts/${encodeURIComponent(value._id)}`;
  return (
    <li class="artifact">
      <strong>{value.name}</strong>{' '}
      <span class="muted">
        ({direction}, {formatBytes(value.bytes)})
      </span>{' '}
      <button type="button" class="link" onClick={() => api.download(`${base}/archive`, `${value.name}.zip`)}>
        download all (.zip)
      </button>
      <ul>
        {value.objects.map((object) => (
          <li key={object.path}>
            {object.sha256 ? (
              <button
                type="button"
                class="link"
                onClick={() =>
                  api.download(
                    `${base}/objects/${encodePath(object.path)}`,
                    object.path.split('/').at(-1) ?? object.path,
                  )
                }
              >
                {object.path}
              </button>
            ) : (
              <span>{object.path}</span>
            )}{' '}
            <span class="muted">{object.uri ?? formatBytes(object.size ?? 0)}</span>
          </li>
        ))}
      </ul>
    </li>
  );
}

/** The artifacts the run used and produced (nothing when there are none; see `RunOutputs`). */
export function RunArtifacts({ inputs, outputs }: { inputs: string[]; outputs: string[] }) {
  if (inputs.length + outputs.length === 0) return null;
  return (
    <ul class="artifacts">
      {inputs.map((id) => (
        <ArtifactCard key={`in-${id}`} id={id} direction="input" />
      ))}
      {outputs.map((id) => (
        <ArtifactCard key={`out-${id}`} id={id} direction="output" />
      ))}
    </ul>
  );
}
