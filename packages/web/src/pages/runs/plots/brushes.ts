/**
 * Brushes on plot axes: a range of positions on one axis each, which select the runs inside
 * all of them. The same selection is sent to the server as a query (`$and` of ranges and
 * `$in` lists), so the runs table shows exactly the runs the plot highlights.
 */
import type { Query, QueryValue } from '../../../api/query-string.js';
import { axisPosition, axisValue, type PlotAxis, type RunColumns } from './run-columns.js';

export interface Brush {
  path: string;
  /** Positions on the axis, 0 bottom to 1 top, `from < to`. */
  from: number;
  to: number;
}

/** What a brush keeps: a closed range of a numeric axis, or some categories. */
export type BrushCondition =
  | { kind: 'range'; path: string; low: number; high: number }
  | { kind: 'in'; path: string; values: readonly (string | boolean | number)[]; indexes: ReadonlySet<number> };

export function brushCondition(axis: PlotAxis, brush: Brush): BrushCondition {
  if (axis.kind === 'number') {
    return { kind: 'range', path: axis.path, low: axisValue(axis, brush.from), high: axisValue(axis, brush.to) };
  }
  const inside = axis.categories
    .map((_, index) => index)
    .filter((index) => {
      const t = axisPosition(axis, index);
      return t >= brush.from && t <= brush.to;
    });
  // A brush between two categories keeps the nearer one, never none.
  if (inside.length === 0 && axis.categories.length > 0) {
    const middle = (brush.from + brush.to) / 2;
    let nearest = 0;
    axis.categories.forEach((_, index) => {
      if (Math.abs(axisPosition(axis, index) - middle) < Math.abs(axisPosition(axis, nearest) - middle))
        nearest = index;
    });
    inside.push(nearest);
  }
  return {
    kind: 'in',
    path: axis.path,
    values: inside.map((index) => axis.categories[index] as string | boolean | number),
    indexes: new Set(inside),
  };
}

/** The conditions of the brushes whose axes are plotted. */
export function brushConditions(columns: RunColumns, brushes: readonly Brush[]): BrushCondition[] {
  return brushes.flatMap((brush) => {
    const axis = columns.axes.get(brush.path);
    return axis ? [brushCondition(axis, brush)] : [];
  });
}

/** 1 for each run inside every condition, else 0 (null: no condition, every run). */
export function selectRuns(columns: RunColumns, conditions: readonly BrushCondition[]): Uint8Array | null {
  if (conditions.length === 0) return null;
  const selected = new Uint8Array(columns.count).fill(1);
  for (const condition of conditions) {
    const values = columns.axes.get(condition.path)?.values;
    if (!values) continue;
    if (condition.kind === 'range') {
      const { low, high } = condition;
      for (let row = 0; row < selected.length; row++) {
        const value = values[row] as number;
        if (!(value >= low && value <= high)) selected[row] = 0;
      }
    } else {
      for (let row = 0; row < selected.length; row++) {
        if (!condition.indexes.has(values[row] as number)) selected[row] = 0;
      }
    }
  }
  return selected;
}

/** The conditions as a Feathers query for `/runs` (empty when there are none). */
export function brushQuery(conditions: readonly BrushCondition[]): Query {
  if (conditions.length === 0) return {};
  return {
    $and: conditions.map(
      (condition): QueryValue =>
        condition.kind === 'range'
          ? { [condition.path]: { $gte: condition.low, $lte: condition.high } }
          : { [condition.path]: { $in: [...condition.values] } },
    ),
  };
}
