/**
 * Parallel coordinates of many runs: an axis per field, a line per run, drawn on two
 * canvases (all runs muted beneath, the selection coloured above). Dragging along an axis
 * brushes a range of it; a click on an axis clears its brush. While dragging only the upper
 * canvas is redrawn, once per frame; the owner hears of the brushes when the drag ends.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { formatValue } from '../../../components/format.js';
import { columnLabel } from '../runs-view.js';
import { type Brush, brushConditions, selectRuns } from './brushes.js';
import { drawMuted, drawSelected, type Frame, lineLayout, prepareCanvas } from './parallel-lines.js';
import { axisPosition, axisValue, type PlotAxis, type RunColumns } from './run-columns.js';

export const PARALLEL_DRAWN = 'larder:parallel-drawn';
export const BRUSH_DRAWN = 'larder:brush-drawn';
/** Two frames after the first drawing: the canvases' pixels are on screen (their raster is not in PARALLEL_DRAWN). */
export const PARALLEL_SHOWN = 'larder:parallel-shown';

const HEIGHT = 340;
const MARGIN = { top: 40, bottom: 28, left: 56, right: 56 };
/** How far from an axis (CSS px) a drag still starts a brush on it. */
const GRAB = 18;
const TICKS = 5;

interface Props {
  columns: RunColumns;
  paths: readonly string[];
  brushes: readonly Brush[];
  onBrush: (brushes: Brush[]) => void;
}

function ticks(axis: PlotAxis): { t: number; label: string }[] {
  if (axis.kind === 'category') {
    const every = Math.max(1, Math.ceil(axis.categories.length / 12));
    return axis.categories
      .map((category, index) => ({ t: axisPosition(axis, index), label: String(category) }))
      .filter((_, index) => index % every === 0);
  }
  if (axis.max === axis.min) return [{ t: 0.5, label: formatValue(axis.min) }];
  if (axis.log) {
    // Decades, which read better than evenly spaced positions' values.
    const decades: { t: number; label: string }[] = [];
    for (let power = Math.ceil(Math.log10(axis.min) - 1e-9); power <= Math.log10(axis.max) + 1e-9; power++) {
      decades.push({ t: axisPosition(axis, 10 ** power), label: formatValue(10 ** power) });
    }
    return decades;
  }
  return Array.from({ length: TICKS }, (_, index) => {
    const t = index / (TICKS - 1);
    return { t, label: formatValue(axisValue(axis, t)) };
  });
}

export function ParallelCoordinates({ columns, paths, brushes, onBrush }: Props) {
  const container = useRef<HTMLDivElement>(null);
  const under = useRef<HTMLCanvasElement>(null);
  const over = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(0);
  const [live, setLive] = useState<readonly Brush[]>(brushes);
  const drag = useRef<{ path: string; start: number; moved: boolean } | null>(null);
  const frameRequest = useRef(0);
  useEffect(() => setLive(brushes), [brushes]);

  useLayoutEffect(() => {
    const element = container.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setWidth(element.clientWidth));
    observer.observe(element);
    setWidth(element.clientWidth);
    return () => observer.disconnect();
  }, []);

  const axes = useMemo(
    () => paths.map((path) => columns.axes.get(path)).filter((axis): axis is PlotAxis => axis !== undefined),
    [columns, paths.join('\n')],
  );
  const frame: Frame = { width, height: HEIGHT, ...MARGIN };
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;

  // A new layout (data, axes or width): every line again, both layers.
  const layout = useMemo(() => {
    if (width === 0) return null;
    const started = performance.now();
    const made = lineLayout(frame, axes, columns.count);
    return { made, started };
  }, [axes, columns, width]);

  const paint = (current: readonly Brush[], mark: string, started: number) => {
    if (!layout || !under.current || !over.current) return;
    const conditions = brushConditions(columns, current);
    const selected = selectRuns(columns, conditions);
    const context = prepareCanvas(over.current, frame);
    if (!context) return;
    const drawn = drawSelected(context, layout.made, selected);
    performance.mark(mark, {
      detail: {
        ms: performance.now() - started,
        runs: columns.count,
        drawn,
        axes: axes.length,
        loadMs: columns.loadMs,
      },
    });
  };

  useEffect(() => {
    if (!layout || !under.current) return;
    const context = prepareCanvas(under.current, frame);
    if (context) drawMuted(context, layout.made);
    paint(live, PARALLEL_DRAWN, layout.started);
    const { started } = layout;
    requestAnimationFrame(() =>
      requestAnimationFrame(() =>
        performance.mark(PARALLEL_SHOWN, { detail: { ms: performance.now() - started, runs: columns.count } }),
      ),
    );
  }, [layout]);

  const axisAt = (x: number): PlotAxis | undefined => {
    let best: PlotAxis | undefined;
    let distance = GRAB;
    axes.forEach((axis, index) => {
      const at = Math.abs((layout?.made.xs[index] ?? Number.NaN) - x);
      if (at <= distance) {
        distance = at;
        best = axis;
      }
    });
    return best;
  };
  const positionOf = (y: number) => Math.min(1, Math.max(0, 1 - (y - MARGIN.top) / plotHeight));
  const local = (event: PointerEvent) => {
    const box = (container.current as HTMLDivElement).getBoundingClientRect();
    return { x: event.clientX - box.left, y: event.clientY - box.top };
  };

  const update = (next: readonly Brush[]) => {
    setLive(next);
    cancelAnimationFrame(frameRequest.current);
    frameRequest.current = requestAnimationFrame(() => paint(next, BRUSH_DRAWN, performance.now()));
  };

  const onPointerDown = (event: PointerEvent) => {
    const { x, y } = local(event);
    const axis = axisAt(x);
    if (!axis) return;
    event.preventDefault();
    (event.currentTarget as HTMLElement).setPointerCapture(event.pointerId);
    drag.current = { path: axis.path, start: positionOf(y), moved: false };
  };
  const onPointerMove = (event: PointerEvent) => {
    const current = drag.current;
    if (!current) return;
    const t = positionOf(local(event).y);
    if (Math.abs(t - current.start) * plotHeight < 3 && !current.moved) return;
    current.moved = true;
    const brush = { path: current.path, from: Math.min(t, current.start), to: Math.max(t, current.start) };
    update([...live.filter((each) => each.path !== current.path), brush]);
  };
  const onPointerUp = () => {
    const current = drag.current;
    drag.current = null;
    if (!current) return;
    const next = current.moved ? [...live] : live.filter((each) => each.path !== current.path);
    update(next);
    onBrush(next);
  };

  return (
    <div
      ref={container}
      class="parallel"
      style={{ height: `${HEIGHT}px` }}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onPointerCancel={onPointerUp}
      role="img"
      aria-label={`Parallel coordinates of ${columns.count} runs`}
    >
      <canvas ref={under} style={{ width: `${width}px`, height: `${HEIGHT}px` }} />
      <canvas ref={over} style={{ width: `${width}px`, height: `${HEIGHT}px` }} />
      {layout &&
        axes.map((axis, index) => {
          const x = layout.made.xs[index] as number;
          const brush = live.find((each) => each.path === axis.path);
          return (
            <div
              key={axis.path}
              class="pc-axis"
              data-axis={axis.path}
              style={{ left: `${x}px`, top: `${MARGIN.top}px`, height: `${plotHeight}px` }}
            >
              <span class="pc-axis-title" title={axis.path}>
                {columnLabel(axis.path)}
                {axis.log ? ' (log)' : ''}
              </span>
              {ticks(axis).map((tick) => (
                <span key={tick.label} class="pc-tick" style={{ top: `${(1 - tick.t) * plotHeight}px` }}>
                  {tick.label}
                </span>
              ))}
              {brush && (
                <span
                  class="pc-brush"
                  data-brush={axis.path}
                  style={{
                    top: `${(1 - brush.to) * plotHeight}px`,
                    height: `${(brush.to - brush.from) * plotHeight}px`,
                  }}
                />
              )}
            </div>
          );
        })}
    </div>
  );
}
