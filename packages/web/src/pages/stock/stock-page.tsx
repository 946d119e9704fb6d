/** Stock repositories the user may read, with the commit each branch points to. */
import { api } from '../../api/api-client.js';
import { formatDate } from '../../components/format.js';
import { Loading, Problem } from '../../components/problem.js';
import { useLoad } from '../../components/use-load.js';
import { Link } from '../../router/router.js';

export interface StockRepository {
  _id: string;
  name: string;
  description?: string;
  public?: boolean;
  refs?: Record<string, string>;
  updatedAt?: string;
}

export function StockPage() {
  const repos = useLoad(
    (signal) => api.find<StockRepository>('stock-repos', { $limit: 1000, $sort: { name: 1 } }, signal),
    [],
  );
  if (repos.state === 'failed') return <Problem error={repos.error} what="stock repositories" />;
  if (repos.state === 'loading') return <Loading what="stock repositories" />;
  if (repos.value.data.length === 0) return <p class="muted">No stock repositories yet (larder stock push).</p>;
  return (
    <article>
      <h1>Stock</h1>
      <table class="data wide">
        <thead>
          <tr>
            <th>Repository</th>
            <th>main</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          {repos.value.data.map((repo) => (
            <tr key={repo._id}>
              <td>
                <Link href={`/stock/${encodeURIComponent(repo._id)}`}>{repo.name}</Link>{' '}
                <span class="muted">{repo.description}</span>
              </td>
              <td>
                <code>{repo.refs?.main?.slice(0, 12) ?? '—'}</code>
              </td>
              <td>{formatDate(repo.updatedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </article>
  );
}
