/**
 * Compare at scale, above the runs table: the runs its filter selects (up to 10,000) in
 * parallel coordinates over any hparams and metric summaries, and a scatter plot of one
 * field against another. Brushes on the axes select runs; the owner gets them as a query so
 * the table lists exactly the selected runs.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Query } from '../../../api/query-string.js';
import { Loading, Problem } from '../../../components/problem.js';
import { useLoad } from '../../../components/use-load.js';
import { ColumnPicker } from '../column-picker.js';
import { columnLabel } from '../runs-view.js';
import { type Brush, brushConditions, brushQuery, selectRuns } from './brushes.js';
import { ParallelCoordinates } from './parallel-coordinates.js';
import { loadRunColumns, type RunColumns } from './run-columns.js';
import { ScatterPlot } from './scatter-plot.js';

export interface RunPlotsProps {
  /** The table's filter and folder, as a query string. */
  baseQuery: string;
  /** Fields the runs offer (hparams, metric summaries); null while they are being sampled. */
  available: readonly string[] | null;
  axes: readonly string[];
  onAxes: (axes: string[]) => void;
  scatter: readonly [string, string] | null;
  onScatter: (scatter: [string, string]) => void;
  /** The brushes as a `/runs` query (empty: no brush). */
  onFilter: (query: Query) => void;
}

function Scatter({
  columns,
  x,
  y,
  selected,
}: {
  columns: RunColumns;
  x: string;
  y: string;
  selected: Uint8Array | null;
}) {
  const element = useRef<HTMLDivElement>(null);
  const plot = useRef<ScatterPlot | null>(null);
  useEffect(() => {
    if (!element.current) return;
    plot.current = new ScatterPlot(element.current);
    return () => plot.current?.destroy();
  }, []);
  useEffect(() => {
    const [xAxis, yAxis] = [columns.axes.get(x), columns.axes.get(y)];
    if (plot.current && xAxis && yAxis)
      plot.current.update(columns, xAxis, yAxis, selected, [columnLabel(x), columnLabel(y)]);
  }, [columns, x, y, selected]);
  return (
    <div
      ref={element}
      class="scatter"
      role="img"
      aria-label={`Scatter of ${columnLabel(y)} against ${columnLabel(x)}`}
    />
  );
}

function FieldChoice({
  label,
  value,
  fields,
  onChange,
}: {
  label: string;
  value: string;
  fields: readonly string[];
  onChange: (value: string) => void;
}) {
  return (
    <label>
      {label}{' '}
      <select aria-label={`Scatter ${label}`} value={value} onChange={(event) => onChange(event.currentTarget.value)}>
        {fields.map((field) => (
          <option key={field} value={field}>
            {columnLabel(field)}
            {field.startsWith('metrics.') ? ` (${field.split('.').at(-1)})` : ''}
          </option>
        ))}
      </select>
    </label>
  );
}

export function RunPlots({ baseQuery, available, axes, onAxes, scatter, onScatter, onFilter }: RunPlotsProps) {
  const [brushes, setBrushes] = useState<Brush[]>([]);
  const fields = useMemo(() => [...new Set([...axes, ...(available ?? [])])], [axes, available]);
  const [x, y] = scatter ?? [fields[0] ?? '', fields[1] ?? fields[0] ?? ''];
  const paths = useMemo(() => [...new Set([...axes, x, y].filter(Boolean))], [axes, x, y]);
  // No field to plot yet (the sample that suggests them is on its way): reading 10,000 runs'
  // names alone would only compete with the read that follows.
  const loaded = useLoad(
    (signal) => (paths.length === 0 ? Promise.resolve(null) : loadRunColumns(baseQuery, paths, signal)),
    [baseQuery, paths.join('\n')],
  );
  const columns = loaded.value ?? undefined;
  const nothingToPlot = loaded.state === 'ready' && columns === undefined && available !== null;

  const conditions = useMemo(() => (columns ? brushConditions(columns, brushes) : []), [columns, brushes]);
  const selected = useMemo(() => (columns ? selectRuns(columns, conditions) : null), [columns, conditions]);
  const selectedCount = useMemo(
    () => (selected ? selected.reduce((sum, value) => sum + value, 0) : (columns?.count ?? 0)),
    [selected, columns],
  );
  useEffect(() => onFilter(brushQuery(conditions)), [conditions]);
  useEffect(() => () => onFilter({}), []);
  // A new filter is a new set of runs: brushes drawn on the old ones no longer apply.
  useEffect(() => setBrushes([]), [baseQuery]);

  return (
    <section class="run-plots" aria-label="Compare runs at scale">
      <div class="toolbar">
        <ColumnPicker label="Axes" available={available ?? []} chosen={axes} onChange={onAxes} />
        <span class="muted">Scatter</span>
        <FieldChoice label="x" value={x} fields={fields} onChange={(value) => onScatter([value, y])} />
        <FieldChoice label="y" value={y} fields={fields} onChange={(value) => onScatter([x, value])} />
        {brushes.length > 0 && (
          <button type="button" onClick={() => setBrushes([])}>
            Clear brushes
          </button>
        )}
        <span class="count" data-testid="plot-count">
          {columns
            ? `${selectedCount.toLocaleString('en')} of ${columns.count.toLocaleString('en')} runs selected` +
              (columns.total > columns.count
                ? ` (the first ${columns.count.toLocaleString('en')} of ${columns.total.toLocaleString('en')})`
                : '')
            : ''}
        </span>
      </div>
      {loaded.state === 'failed' && <Problem error={loaded.error} what="runs to plot" />}
      {!columns && !nothingToPlot && loaded.state !== 'failed' && <Loading what="runs to plot" />}
      {(nothingToPlot || (columns && axes.length === 0)) && <p class="muted">Choose axes to plot.</p>}
      {columns && (
        <div class="plots">
          <ParallelCoordinates columns={columns} paths={axes} brushes={brushes} onBrush={setBrushes} />
          {x && y && <Scatter columns={columns} x={x} y={y} selected={selected} />}
        </div>
      )}
    </section>
  );
}
