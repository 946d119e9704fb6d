/**
 * The runs table: a folder tree, a filter in the query language, sorting on any column,
 * columns of hparams and metric summaries the user picks, live status, and a selection to
 * compare. Rows load page by page as they scroll into view (see `run-rows.ts`).
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api } from '../../api/api-client.js';
import { filterQuery } from '../../api/filter-text.js';
import { encodeQuery, type Query } from '../../api/query-string.js';
import { subscribe } from '../../api/realtime.js';
import { mark, TABLE_RENDERED } from '../../charts/perf-marks.js';
import { formatDate, formatValue, valueAt } from '../../components/format.js';
import { lazyPage } from '../../components/lazy-page.js';
import { Problem } from '../../components/problem.js';
import { type TableColumn, VirtualTable } from '../../components/virtual-table.js';
import { Link, navigate } from '../../router/router.js';
import { ColumnPicker } from './column-picker.js';
import { FolderTree } from './folder-tree.js';
import { type RunRow, RunRows } from './run-rows.js';
import {
  availableColumns,
  columnLabel,
  loadRunsView,
  type RunsView,
  saveRunsView,
  suggestedColumns,
} from './runs-view.js';

const FIXED_FIELDS = ['name', 'status', 'folder', 'createdAt'];
// The plots and their chart code load only when opened.
const RunPlots = lazyPage(() => import('./plots/run-plots.js').then((module) => module.RunPlots));

export function StatusBadge({ status }: { status: unknown }) {
  const text = typeof status === 'string' ? status : '';
  return <span class={`status status-${text.toLowerCase()}`}>{text}</span>;
}

export function RunsPage() {
  const [view, setViewState] = useState<RunsView>(loadRunsView);
  const [filterText, setFilterText] = useState(view.filter);
  const [available, setAvailable] = useState<string[]>([]);
  // The filter and folder whose runs `available` was sampled from.
  const [sampled, setSampled] = useState<string | null>(null);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [, setVersion] = useState(0);
  const [brushFilter, setBrushFilter] = useState('');
  const onPlotFilter = useCallback((query: Query) => setBrushFilter(encodeQuery(query)), []);
  const setView = (change: Partial<RunsView>) =>
    setViewState((current) => {
      const next = { ...current, ...change };
      saveRunsView(next);
      return next;
    });

  const filter = useMemo(() => filterQuery(view.filter), [view.filter]);
  const columns = useMemo(() => view.columns ?? [], [view.columns]);
  const baseQuery = useMemo(() => {
    if (!filter.ok) return null;
    const folder = view.folder ? encodeQuery({ ancestors: view.folder }) : '';
    return [filter.query, folder].filter(Boolean).join('&');
  }, [filter, view.folder]);
  const query = useMemo(() => {
    if (baseQuery === null) return null;
    const order = encodeQuery({
      $sort: { [view.sort.key]: view.sort.direction },
      $select: [...FIXED_FIELDS, ...columns],
    });
    return [baseQuery, view.plots ? brushFilter : '', order].filter(Boolean).join('&');
  }, [baseQuery, brushFilter, view.plots, view.sort, columns]);

  // Another order or other columns of the same runs: the new rows start from the count the
  // table has, so its height (and the user's scroll position) stays while they load.
  const runSet = `${baseQuery}&${view.plots ? brushFilter : ''}`;
  const previous = useRef<{ runSet: string; rows: RunRows } | null>(null);
  const rows = useMemo(() => {
    if (query === null) return null;
    const known = previous.current?.runSet === runSet ? previous.current.rows.total : 0;
    return new RunRows(query, () => setVersion((v) => v + 1), known);
  }, [query]);
  if (rows) previous.current = { runSet, rows };
  useEffect(() => {
    if (!rows) return;
    void rows.start();
    const subscriptions = [
      subscribe<RunRow>('runs', 'patched', (run) => rows.patched(run)),
      subscribe<RunRow>('runs', 'updated', (run) => rows.patched(run)),
      subscribe<RunRow>('runs', 'created', () => rows.reload()),
      subscribe<RunRow>('runs', 'removed', () => rows.reload()),
    ];
    return () => {
      rows.close();
      for (const subscription of subscriptions) subscription.stop();
    };
  }, [rows]);

  // The columns these runs offer, from a sample of them.
  useEffect(() => {
    if (baseQuery === null) return;
    const controller = new AbortController();
    api
      .request<{ data: Record<string, unknown>[] }>(
        'GET',
        `/runs?${baseQuery ? `${baseQuery}&` : ''}$limit=100&$select[]=hparams&$select[]=metrics`,
        undefined,
        controller.signal,
      )
      .then((page) => {
        const found = availableColumns(page.data);
        setAvailable(found);
        setSampled(baseQuery);
        if (view.columns === null && found.length > 0) setView({ columns: suggestedColumns(page.data) });
      })
      .catch(() => {});
    return () => controller.abort();
  }, [baseQuery]);

  // The first rows on screen, for the benchmarks (the frame after they were rendered).
  const firstRows = rows !== null && rows.version > 0;
  useEffect(() => {
    if (firstRows) requestAnimationFrame(() => mark(TABLE_RENDERED, { total: rows?.total ?? 0 }));
  }, [firstRows, rows]);

  const onRange = useCallback((first: number, last: number) => rows?.want(first, last), [rows]);
  const toggle = (id: string) =>
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const tableColumns: TableColumn<RunRow>[] = [
    {
      key: 'select',
      label: '',
      width: 36,
      render: (run) => (
        <input
          type="checkbox"
          aria-label={`Select ${run.name ?? run._id}`}
          checked={selected.has(run._id)}
          onChange={() => toggle(run._id)}
        />
      ),
    },
    {
      key: 'name',
      label: 'Name',
      width: 240,
      sortable: true,
      render: (run) => <Link href={`/runs/${encodeURIComponent(run._id)}`}>{run.name ?? run._id}</Link>,
    },
    {
      key: 'status',
      label: 'Status',
      width: 110,
      sortable: true,
      render: (run) => <StatusBadge status={run.status} />,
    },
    { key: 'folder', label: 'Folder', width: 220, sortable: true, render: (run) => run.folder ?? '' },
    { key: 'createdAt', label: 'Created', width: 170, sortable: true, render: (run) => formatDate(run.createdAt) },
    ...columns.map(
      (path): TableColumn<RunRow> => ({
        key: path,
        label: columnLabel(path),
        width: 130,
        numeric: true,
        sortable: true,
        render: (run) => formatValue(valueAt(run, path)),
      }),
    ),
  ];

  const onSort = (key: string) =>
    setView({
      sort: { key, direction: view.sort.key === key && view.sort.direction === -1 ? 1 : -1 },
    });

  return (
    <div class="runs-page">
      <FolderTree selected={view.folder} onSelect={(folder) => setView({ folder })} />
      <section class="runs-main">
        <div class="toolbar">
          <form
            class="filter"
            onSubmit={(event) => {
              event.preventDefault();
              setView({ filter: filterText });
            }}
          >
            <input
              name="filter"
              aria-label="Filter runs"
              placeholder="status = Running and hparams.lr >= 0.01   (or hparams.lr[$gte]=0.01)"
              value={filterText}
              onInput={(event) => setFilterText(event.currentTarget.value)}
            />
            <button type="submit">Filter</button>
          </form>
          <ColumnPicker available={available} chosen={columns} onChange={(next) => setView({ columns: next })} />
          <button type="button" aria-pressed={view.plots} onClick={() => setView({ plots: !view.plots })}>
            Plots
          </button>
          <button
            type="button"
            disabled={selected.size < 2}
            onClick={() => navigate(`/compare/${[...selected].map(encodeURIComponent).join(',')}`)}
          >
            Compare {selected.size > 0 ? `(${selected.size})` : ''}
          </button>
          <span class="count" data-testid="run-count">
            {rows ? `${rows.total.toLocaleString('en')} runs` : ''}
          </span>
        </div>
        {!filter.ok && (
          <p class="problem" role="alert">
            {filter.message}
          </p>
        )}
        {view.plots && baseQuery !== null && (
          <RunPlots
            baseQuery={baseQuery}
            available={sampled === baseQuery ? available : null}
            axes={view.plotAxes ?? columns}
            onAxes={(plotAxes) => setView({ plotAxes })}
            scatter={view.scatter}
            onScatter={(scatter) => setView({ scatter })}
            onFilter={onPlotFilter}
          />
        )}
        {rows?.error && <Problem error={rows.error} what="runs" />}
        {rows && (
          <VirtualTable
            label="Runs"
            columns={tableColumns}
            rowCount={rows.total}
            row={(index) => rows.row(index)}
            rowKey={(run) => run._id}
            onRange={onRange}
            sort={view.sort}
            onSort={onSort}
            version={rows.version}
          />
        )}
      </section>
    </div>
  );
}
