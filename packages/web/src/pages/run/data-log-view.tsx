/**
 * A run's data logs drawn as what they are: a value, a line (on a uPlot chart), bars,
 * a heatmap, a table, a label map, a picture, an evaluation summary.
 */
import { useMemo } from 'preact/hooks';
import { api } from '../../api/api-client.js';
import { colorFor } from '../../charts/chart-colors.js';
import { LineChart } from '../../charts/line-chart.js';
import { formatValue } from '../../components/format.js';
import { JsonView } from '../../components/json-view.js';
import { useLoad } from '../../components/use-load.js';

export interface DataLog {
  type: string;
  data: unknown;
}

type Scalar = string | number | boolean | null;
const NO_ZOOM_OPTIONS = { logY: false, smoothing: 0 };

function Bars({ x, y }: { x: Scalar[]; y: number[] }) {
  const max = Math.max(...y.map(Math.abs), 1e-12);
  return (
    <div class="bars">
      {x.map((label, index) => (
        <div key={String(index)} class="bar-row">
          <span class="bar-label">{String(label)}</span>
          <span class="bar" style={{ width: `${(Math.abs(y[index] ?? 0) / max) * 100}%` }} />
          <span class="bar-value">{formatValue(y[index])}</span>
        </div>
      ))}
    </div>
  );
}

function Heatmap({ categories, values }: { categories: string[]; values: number[][] }) {
  const all = values.flat();
  const min = Math.min(...all);
  const max = Math.max(...all);
  const shade = (value: number) => (max === min ? 0.5 : (value - min) / (max - min));
  return (
    <table class="heatmap">
      <thead>
        <tr>
          <th class="heatmap-label" />
          {categories.map((category) => (
            <th key={category} class="heatmap-label">
              {category}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {values.map((row, rowIndex) => (
          <tr key={categories[rowIndex] ?? rowIndex}>
            <th class="heatmap-label">{categories[rowIndex]}</th>
            {row.map((value, column) => (
              <td
                key={categories[column] ?? column}
                style={{
                  background: `rgba(47, 111, 208, ${0.08 + shade(value) * 0.85})`,
                  color: shade(value) > 0.55 ? 'white' : 'inherit',
                }}
              >
                {formatValue(value)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function DataTable({ data }: { data: Record<string, unknown> }) {
  if (Array.isArray(data.data)) {
    const rows = data.data as Scalar[][];
    const columns = (data.columns as string[] | undefined) ?? rows[0]?.map((_, index) => String(index)) ?? [];
    const names = data.rows as string[] | undefined;
    return (
      <table class="data">
        <thead>
          <tr>
            {names && <th />}
            {columns.map((column) => (
              <th key={column}>{column}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, index) => (
            <tr key={String(index)}>
              {names && <th>{names[index]}</th>}
              {row.map((cell, column) => (
                <td key={String(column)}>{formatValue(cell)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    );
  }
  return (
    <table class="data">
      <tbody>
        {Object.entries(data).map(([key, value]) => (
          <tr key={key}>
            <th>{key}</th>
            <td>{formatValue(value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Picture({ runId, name, data }: { runId: string; name: string; data: { sha256: string; filename?: string } }) {
  // Read through the run, like its files, so whoever may read the run sees it.
  const url = useLoad(
    async (signal) =>
      URL.createObjectURL(
        await api.blob(`/runs/${encodeURIComponent(runId)}/data-logs/${encodeURIComponent(name)}`, signal),
      ),
    [runId, name, data.sha256],
  );
  if (url.state === 'ready') return <img class="data-image" src={url.value} alt={data.filename ?? name} />;
  if (url.state === 'failed') return <p class="muted">The picture {data.filename ?? ''} cannot be shown to you.</p>;
  return <p class="muted">Loading picture…</p>;
}

export function DataLogView({ runId, name, log }: { runId: string; name: string; log: DataLog }) {
  const data = log.data as Record<string, unknown>;
  const line = useMemo(
    () =>
      log.type === 'line'
        ? [{ label: name, color: colorFor(0), steps: data.steps as number[], values: data.values as (number | null)[] }]
        : [],
    [log],
  );
  switch (log.type) {
    case 'value':
      return <p class="big-value">{formatValue(log.data)}</p>;
    case 'line':
      return <LineChart title={name} series={line} options={NO_ZOOM_OPTIONS} height={200} />;
    case 'bar':
      return <Bars x={data.x as Scalar[]} y={data.y as number[]} />;
    case 'heatmap':
      return <Heatmap categories={data.categories as string[]} values={data.values as number[][]} />;
    case 'table':
      return <DataTable data={data} />;
    case 'labelmap':
      return (
        <ul class="labelmap">
          {Object.entries(data).map(([index, label]) => (
            <li key={index}>
              <code>{index}</code> {String(label)}
            </li>
          ))}
        </ul>
      );
    case 'image':
      return <Picture runId={runId} name={name} data={data as { sha256: string; filename?: string }} />;
    default:
      return <JsonView value={log.data} />;
  }
}
