/**
 * A stock repository's history: its commits newest first; choose two to see what changed
 * between them (models, tags and data samples added, removed or changed).
 */
import { useState } from 'preact/hooks';
import { api } from '../../api/api-client.js';
import { formatBytes, formatDate } from '../../components/format.js';
import { Loading, Problem } from '../../components/problem.js';
import { useLoad } from '../../components/use-load.js';
import { Link } from '../../router/router.js';
import { readCommit, treeChanges } from './stock-commit-object.js';
import type { StockRepository } from './stock-page.js';

interface CommitRecord {
  _id: string;
  commit: string;
  parents: string[];
  message: string;
  author?: string;
  time?: string;
  tree?: Record<string, number>;
  objects?: number;
  bytes?: number;
}

function Changes({ repo, from, to }: { repo: string; from: string; to: string }) {
  const diff = useLoad(
    async (signal) => {
      const [before, after] = await Promise.all([readCommit(repo, from, signal), readCommit(repo, to, signal)]);
      return treeChanges(before.tree, after.tree);
    },
    [repo, from, to],
  );
  if (diff.state === 'failed') return <Problem error={diff.error} what="commits" />;
  if (diff.state === 'loading') return <Loading what="changes" />;
  if (diff.value.length === 0) return <p class="muted">The two commits hold the same content.</p>;
  return (
    <ul class="changes">
      {diff.value.map((change) => (
        <li key={`${change.storage}/${change.key}`} class={`change-${change.change}`}>
          <span class="change">{change.change}</span> {change.storage} / {change.key}
        </li>
      ))}
    </ul>
  );
}

export function RepositoryPage({ id }: { id: string }) {
  const [chosen, setChosen] = useState<string[]>([]);
  const loaded = useLoad(
    async (signal) => {
      const [repo, commits] = await Promise.all([
        api.get<StockRepository>('stock-repos', id, signal),
        api.find<CommitRecord>('stock-commits', { repo: id, $sort: { time: -1 }, $limit: 1000 }, signal),
      ]);
      return { repo, commits: commits.data };
    },
    [id],
  );
  if (loaded.state === 'failed') return <Problem error={loaded.error} what="stock repository" />;
  if (loaded.state === 'loading') return <Loading what="stock repository" />;
  const { repo, commits } = loaded.value;
  const toggle = (commit: string) =>
    setChosen((current) =>
      current.includes(commit) ? current.filter((each) => each !== commit) : [...current, commit].slice(-2),
    );
  // Older first, whichever was clicked first.
  const order = (a: string, b: string) =>
    commits.findIndex((c) => c.commit === a) > commits.findIndex((c) => c.commit === b) ? [a, b] : [b, a];
  const pair = chosen.length === 2 ? order(chosen[0] as string, chosen[1] as string) : null;
  return (
    <article>
      <p class="crumbs">
        <Link href="/stock">Stock</Link> / {repo.name}
      </p>
      <h1>{repo.name}</h1>
      {repo.description && <p class="muted">{repo.description}</p>}
      <p class="muted">Tick two commits to see what changed between them.</p>
      <table class="data wide">
        <thead>
          <tr>
            <th />
            <th>Commit</th>
            <th>Message</th>
            <th>Author</th>
            <th>Time</th>
            <th>Content</th>
          </tr>
        </thead>
        <tbody>
          {commits.map((commit) => (
            <tr key={commit._id}>
              <td>
                <input
                  type="checkbox"
                  aria-label={`Choose ${commit.commit.slice(0, 12)}`}
                  checked={chosen.includes(commit.commit)}
                  onChange={() => toggle(commit.commit)}
                />
              </td>
              <td>
                <code>{commit.commit.slice(0, 12)}</code>
                {Object.entries(repo.refs ?? {})
                  .filter(([, target]) => target === commit.commit)
                  .map(([ref]) => (
                    <span key={ref} class="tag">
                      {ref}
                    </span>
                  ))}
              </td>
              <td>{commit.message}</td>
              <td>{commit.author}</td>
              <td>{formatDate(commit.time)}</td>
              <td class="muted">
                {Object.entries(commit.tree ?? {})
                  .map(([storage, count]) => `${count} ${storage}`)
                  .join(', ')}{' '}
                · {formatBytes(commit.bytes ?? 0)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {pair && (
        <section>
          <h2>
            Changes from <code>{pair[0]?.slice(0, 12)}</code> to <code>{pair[1]?.slice(0, 12)}</code>
          </h2>
          <Changes repo={id} from={pair[0] as string} to={pair[1] as string} />
        </section>
      )}
    </article>
  );
}
