/**
 * One model: its description and named files, and each version with its aliases, PMF
 * metadata (producer, build parameters), training state, checkpoints by epoch, files and
 * the runs that produced or used it.
 */
import { useState } from 'preact/hooks';
import { api } from '../../api/api-client.js';
import { formatBytes, formatDate } from '../../components/format.js';
import { JsonView } from '../../components/json-view.js';
import { Loading, Problem } from '../../components/problem.js';
import { useLoad } from '../../components/use-load.js';
import { Link } from '../../router/router.js';
import type { Model } from './models-page.js';

interface ModelVersion {
  _id: string;
  version: number;
  description?: string;
  createdAt?: string;
  pmf?: {
    producer?: { name: string; version: string };
    buildParameters?: Record<string, unknown>;
    training?: { status: string; latestEpoch: number | null; endEpoch: number | null; latest: unknown };
    checkpoints?: { reference: string | number; epoch: number; path: string }[];
    initialisation?: unknown;
  };
  files?: { path: string; sha256: string; size: number }[];
  producedBy?: string[];
  usedBy?: string[];
}

const encodePath = (path: string) => path.split('/').map(encodeURIComponent).join('/');

function VersionView({ version, aliases }: { version: ModelVersion; aliases: string[] }) {
  const [open, setOpen] = useState(false);
  const pmf = version.pmf ?? {};
  return (
    <section class="card version">
      <h2>
        v{version.version}{' '}
        {aliases.map((alias) => (
          <span key={alias} class="tag">
            {alias}
          </span>
        ))}
        <span class="muted"> {formatDate(version.createdAt)}</span>
      </h2>
      {version.description && <p>{version.description}</p>}
      <p>
        Training: <strong>{pmf.training?.status ?? 'unknown'}</strong>
        {pmf.training?.latestEpoch != null && ` · latest epoch ${pmf.training.latestEpoch}`}
        {pmf.producer && (
          <span class="muted">
            {' '}
            · made by {pmf.producer.name} {pmf.producer.version}
          </span>
        )}
      </p>
      {(pmf.checkpoints ?? []).length > 0 && (
        <table class="data">
          <thead>
            <tr>
              <th>Checkpoint</th>
              <th>Epoch</th>
              <th>Path</th>
            </tr>
          </thead>
          <tbody>
            {pmf.checkpoints?.map((checkpoint) => (
              <tr key={String(checkpoint.reference)}>
                <td>{String(checkpoint.reference)}</td>
                <td>{checkpoint.epoch}</td>
                <td>{checkpoint.path}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p>
        {(version.producedBy ?? []).map((run) => (
          <span key={run}>
            produced by <Link href={`/runs/${encodeURIComponent(run)}`}>run {run}</Link>{' '}
          </span>
        ))}
        {(version.usedBy ?? []).map((run) => (
          <span key={run}>
            used by <Link href={`/runs/${encodeURIComponent(run)}`}>run {run}</Link>{' '}
          </span>
        ))}
      </p>
      <button type="button" class="link" onClick={() => setOpen(!open)}>
        {open ? 'Hide' : 'Show'} build parameters and {version.files?.length ?? 0} files
      </button>
      {open && (
        <>
          <JsonView value={pmf.buildParameters} />
          <ul class="files">
            {(version.files ?? []).map((file) => (
              <li key={file.path}>
                <button
                  type="button"
                  class="link"
                  onClick={() =>
                    api.download(
                      `/model-files/${encodeURIComponent(version._id)}/${encodePath(file.path)}`,
                      file.path.split('/').at(-1) ?? file.path,
                    )
                  }
                >
                  {file.path}
                </button>{' '}
                <span class="muted">{formatBytes(file.size)}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

export function ModelPage({ id }: { id: string }) {
  const loaded = useLoad(
    async (signal) => {
      const [model, versions] = await Promise.all([
        api.get<Model>('models', id, signal),
        api.find<ModelVersion>('model-versions', { modelId: id, $sort: { version: -1 }, $limit: 1000 }, signal),
      ]);
      return { model, versions: versions.data };
    },
    [id],
  );
  if (loaded.state === 'failed') return <Problem error={loaded.error} what="model" />;
  if (loaded.state === 'loading') return <Loading what="model" />;
  const { model, versions } = loaded.value;
  const aliasesOf = (version: number) =>
    Object.entries(model.aliases ?? {})
      .filter(([, number]) => number === version)
      .map(([alias]) => alias);
  return (
    <article>
      <p class="crumbs">
        <Link href="/models">Models</Link> / {model.name}
      </p>
      <h1>{model.name}</h1>
      <p class="muted">
        {[model.framework, model.type].filter(Boolean).join(' · ')} · {model.versionCount ?? 0} versions
      </p>
      {model.description && <p>{model.description}</p>}
      {versions.length === 0 && <p class="muted">No versions yet.</p>}
      {versions.map((version) => (
        <VersionView key={version._id} version={version} aliases={aliasesOf(version.version)} />
      ))}
    </article>
  );
}
