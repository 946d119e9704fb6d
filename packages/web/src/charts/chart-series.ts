/** What a line chart is given: lines of (step, value) points, and how to show them. */

export interface ChartSeries {
  label: string;
  color: string;
  /** Ascending; grows in place when points arrive live. */
  steps: number[];
  /** One per step; null is a gap in the line. */
  values: (number | null)[];
}

export interface ChartOptions {
  /** Values on a base-10 log scale (values <= 0 are left out). */
  logY: boolean;
  /** Weight of the debiased moving average, 0 (none) to 0.99. */
  smoothing: number;
}
