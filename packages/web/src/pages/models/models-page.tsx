/** The model registry: every model the user may see, with its latest version and aliases. */
import { api } from '../../api/api-client.js';
import { formatDate } from '../../components/format.js';
import { Loading, Problem } from '../../components/problem.js';
import { useLoad } from '../../components/use-load.js';
import { Link } from '../../router/router.js';

export interface Model {
  _id: string;
  name: string;
  type?: string;
  framework?: string;
  description?: string;
  tags?: string[];
  aliases?: Record<string, number>;
  versionCount?: number;
  labels?: unknown;
  files?: Record<string, { sha256: string; size: number; filename?: string }>;
  updatedAt?: string;
}

export function ModelsPage() {
  const models = useLoad((signal) => api.find<Model>('models', { $limit: 1000, $sort: { name: 1 } }, signal), []);
  if (models.state === 'failed') return <Problem error={models.error} what="models" />;
  if (models.state === 'loading') return <Loading what="models" />;
  if (models.value.data.length === 0) return <p class="muted">No models yet (larder model push).</p>;
  return (
    <article>
      <h1>Models</h1>
      <table class="data wide">
        <thead>
          <tr>
            <th>Name</th>
            <th>Framework</th>
            <th>Type</th>
            <th>Versions</th>
            <th>Aliases</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          {models.value.data.map((model) => (
            <tr key={model._id}>
              <td>
                <Link href={`/models/${encodeURIComponent(model._id)}`}>{model.name}</Link>
                {(model.tags ?? []).map((tag) => (
                  <span key={tag} class="tag">
                    {tag}
                  </span>
                ))}
              </td>
              <td>{model.framework}</td>
              <td>{model.type}</td>
              <td>{model.versionCount ?? 0}</td>
              <td>
                {Object.entries(model.aliases ?? {}).map(([alias, version]) => (
                  <span key={alias} class="tag">
                    {alias} → v{version}
                  </span>
                ))}
              </td>
              <td>{formatDate(model.updatedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </article>
  );
}
