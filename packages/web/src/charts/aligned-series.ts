/**
 * Lines with steps of their own put on one shared step axis, the shape uPlot draws: `steps`
 * is the sorted union of every line's steps and each column holds one line's values at those
 * steps, `undefined` where the line has no point (uPlot draws straight across) and null where
 * the line itself has a gap (uPlot breaks it there). Points appended to the lines past the
 * last shared step are appended to the table in place; anything else rebuilds it.
 *
 * @example
 * const table = new AlignedSeries((values) => smooth(values, 0.6));
 * table.update(lines); // 'rebuilt'
 * lines[0].steps.push(1000); lines[0].values.push(0.3);
 * table.update(lines); // 'appended'
 */

export type Column = (number | null | undefined)[];

/** The values a line is drawn with (smoothed, gaps for a log scale), one per source value. */
export type DisplayValues = (values: readonly (number | null)[]) => (number | null)[];

export interface LinePoints {
  steps: number[];
  values: (number | null)[];
}

export type AlignedChange = 'unchanged' | 'appended' | 'rebuilt';

export class AlignedSeries {
  /** The shared step axis, ascending, without duplicates. */
  steps: number[] = [];
  /** One per line, as long as `steps`. */
  columns: Column[] = [];
  /** Each line's display values, indexed like its own steps (for reading values at a step). */
  display: (number | null)[][] = [];
  private sources: readonly LinePoints[] = [];
  private lengths: number[] = [];

  constructor(private readonly displayValues: DisplayValues) {}

  /** Brings the table up to date with `lines` and says how. */
  update(lines: readonly LinePoints[]): AlignedChange {
    const grown = this.grownLines(lines);
    if (grown === null) {
      this.rebuild(lines);
      return 'rebuilt';
    }
    if (grown.length === 0) return 'unchanged';
    if (this.append(lines, grown)) return 'appended';
    this.rebuild(lines);
    return 'rebuilt';
  }

  /** Points in the source lines (whatever the step axis shares). */
  get pointCount(): number {
    let total = 0;
    for (const length of this.lengths) total += length;
    return total;
  }

  /**
   * Indexes of the lines that only gained points since the last update, or null when the
   * lines are others (new arrays, shrunk, added or removed) and the table must be rebuilt.
   */
  private grownLines(lines: readonly LinePoints[]): number[] | null {
    if (lines.length !== this.sources.length) return null;
    const grown: number[] = [];
    for (let index = 0; index < lines.length; index++) {
      const line = lines[index] as LinePoints;
      const known = this.sources[index] as LinePoints;
      const length = this.lengths[index] as number;
      if (line.steps !== known.steps || line.values !== known.values || line.steps.length < length) return null;
      if (line.steps.length > length) grown.push(index);
    }
    return grown;
  }

  private rebuild(lines: readonly LinePoints[]): void {
    this.sources = lines;
    this.lengths = lines.map((line) => line.steps.length);
    this.display = lines.map((line) => this.displayValues(line.values.slice(0, line.steps.length)));
    this.steps = unionOfSteps(lines);
    this.columns = lines.map((line, index) => {
      const column: Column = new Array(this.steps.length).fill(undefined);
      place(column, this.steps, 0, line.steps, this.display[index] as (number | null)[], 0);
      return column;
    });
  }

  /** Appends the new points of the `grown` lines when they all lie past the last shared step. */
  private append(lines: readonly LinePoints[], grown: readonly number[]): boolean {
    const lastShared = this.steps.length > 0 ? (this.steps[this.steps.length - 1] as number) : -Infinity;
    const added: number[] = [];
    for (const index of grown) {
      const { steps } = lines[index] as LinePoints;
      const from = this.lengths[index] as number;
      if ((steps[from] as number) <= lastShared) return false;
      for (let point = from; point < steps.length; point++) added.push(steps[point] as number);
    }
    const newSteps = sortedUnique(added);
    const start = this.steps.length;
    for (const step of newSteps) this.steps.push(step);
    for (const column of this.columns) for (let count = 0; count < newSteps.length; count++) column.push(undefined);
    for (const index of grown) {
      const line = lines[index] as LinePoints;
      const from = this.lengths[index] as number;
      // Smoothing carries over from earlier points, so the display values are worked out whole.
      const display = this.displayValues(line.values.slice(0, line.steps.length));
      this.display[index] = display;
      place(this.columns[index] as Column, this.steps, start, line.steps, display, from);
      this.lengths[index] = line.steps.length;
    }
    return true;
  }
}

/** Writes `values[from..]` at their steps' positions in `column`, searching `shared` from `start`. */
function place(
  column: Column,
  shared: readonly number[],
  start: number,
  steps: readonly number[],
  values: readonly (number | null)[],
  from: number,
): void {
  let position = start;
  for (let point = from; point < steps.length; point++) {
    const step = steps[point] as number;
    while (position < shared.length && (shared[position] as number) < step) position++;
    column[position] = values[point] ?? null;
  }
}

function unionOfSteps(lines: readonly LinePoints[]): number[] {
  const first = lines[0]?.steps;
  if (first && lines.every((line) => sameSteps(line.steps, first))) return first.slice();
  const all: number[] = [];
  for (const line of lines) for (const step of line.steps) all.push(step);
  return sortedUnique(all);
}

function sameSteps(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}

function sortedUnique(values: readonly number[]): number[] {
  const sorted = Float64Array.from(values).sort();
  const unique: number[] = [];
  for (const value of sorted) if (unique.length === 0 || value !== unique[unique.length - 1]) unique.push(value);
  return unique;
}
