/** The datasets the user may read, each with its versions (newest first). */
import { api } from '../../api/api-client.js';
import { formatDate } from '../../components/format.js';
import { Loading, Problem } from '../../components/problem.js';
import { useLoad } from '../../components/use-load.js';
import { Link } from '../../router/router.js';
import type { Dataset, DatasetVersion } from './datalake-types.js';

export function DatasetsPage() {
  const loaded = useLoad(async (signal) => {
    const [datasets, versions] = await Promise.all([
      api.find<Dataset>('datasets', { $limit: 1000, $sort: { name: 1 } }, signal),
      api.find<DatasetVersion>('dataset-versions', { $limit: 1000, $sort: { createdAt: -1 } }, signal),
    ]);
    return { datasets: datasets.data, versions: versions.data };
  }, []);
  if (loaded.state === 'failed') return <Problem error={loaded.error} what="datasets" />;
  if (loaded.state === 'loading') return <Loading what="datasets" />;
  const { datasets, versions } = loaded.value;
  if (datasets.length === 0) return <p class="muted">No datasets yet (larder datasets create).</p>;
  return (
    <article>
      <h1>Datasets</h1>
      <div class="cards">
        {datasets.map((dataset) => (
          <section key={dataset._id} class="card">
            <h2>{dataset.name}</h2>
            {dataset.description && <p class="muted">{dataset.description}</p>}
            <ul>
              {versions
                .filter((version) => version.datasetId === dataset._id)
                .map((version) => (
                  <li key={version._id}>
                    <Link href={`/datasets/${encodeURIComponent(version._id)}`}>{version.name}</Link>{' '}
                    <span class="muted">
                      {version.assetCount} pictures · {version.published ? 'published' : 'draft'} ·{' '}
                      {formatDate(version.createdAt)}
                    </span>
                  </li>
                ))}
            </ul>
          </section>
        ))}
      </div>
    </article>
  );
}
