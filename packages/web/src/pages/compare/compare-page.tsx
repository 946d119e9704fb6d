/**
 * Several runs side by side: their metrics overlaid on the same charts (one colour per run)
 * and their hparams in columns, rows whose values differ highlighted.
 */
import { useMemo, useState } from 'preact/hooks';
import { api } from '../../api/api-client.js';
import { colorFor } from '../../charts/chart-colors.js';
import { MetricPanels } from '../../charts/metric-panels.js';
import { formatValue } from '../../components/format.js';
import { Loading, Problem } from '../../components/problem.js';
import { useLoad } from '../../components/use-load.js';
import { Link } from '../../router/router.js';
import { flatHparams, type Run } from '../run/run-page.js';
import { StatusBadge } from '../runs/runs-page.js';

export function ComparePage({ ids }: { ids: string[] }) {
  const [onlyDifferences, setOnlyDifferences] = useState(false);
  const loaded = useLoad(
    async (signal) => {
      const page = await api.find<Run>('runs', { _id: { $in: ids }, $limit: ids.length }, signal);
      const byId = new Map(page.data.map((run) => [run._id, run]));
      return ids.map((id) => byId.get(id)).filter((run): run is Run => run !== undefined);
    },
    [ids.join(',')],
  );
  const runs = loaded.value ?? [];
  const chartRuns = useMemo(() => runs.map((run) => ({ id: run._id, name: run.name })), [loaded.value]);
  const rows = useMemo(() => {
    const flat = runs.map((run) => new Map(flatHparams(run.hparams)));
    const keys = [...new Set(flat.flatMap((map) => [...map.keys()]))].sort();
    return keys.map((key) => {
      const values = flat.map((map) => map.get(key));
      const shown = values.map((value) => JSON.stringify(value ?? null));
      return { key, values, differs: new Set(shown).size > 1 };
    });
  }, [loaded.value]);

  if (loaded.state === 'failed') return <Problem error={loaded.error} what="runs" />;
  if (loaded.state === 'loading') return <Loading what="runs" />;
  if (runs.length === 0) {
    return (
      <div class="problem" role="alert">
        <strong>None of these runs are visible to you.</strong>
      </div>
    );
  }
  const missing = ids.length - runs.length;
  return (
    <article class="compare-page">
      <h1>Comparing {runs.length} runs</h1>
      {missing > 0 && <p class="muted">{missing} of the runs asked for do not exist or are not shared with you.</p>}
      <MetricPanels runs={chartRuns} />
      <section>
        <h2>Hparams</h2>
        <label>
          <input
            type="checkbox"
            checked={onlyDifferences}
            onChange={(e) => setOnlyDifferences(e.currentTarget.checked)}
          />{' '}
          Only differences
        </label>
        <div class="table-scroll">
          <table class="data compare">
            <thead>
              <tr>
                <th />
                {runs.map((run, index) => (
                  <th key={run._id}>
                    <i class="swatch" style={{ background: colorFor(index) }} />
                    <Link href={`/runs/${encodeURIComponent(run._id)}`}>{run.name}</Link>{' '}
                    <StatusBadge status={run.status} />
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows
                .filter((row) => !onlyDifferences || row.differs)
                .map((row) => (
                  <tr key={row.key} class={row.differs ? 'differs' : ''}>
                    <th>{row.key}</th>
                    {row.values.map((value, index) => (
                      <td key={runs[index]?._id}>
                        {value === undefined ? <span class="muted">—</span> : formatValue(value)}
                      </td>
                    ))}
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
      </section>
    </article>
  );
}
