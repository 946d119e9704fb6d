/**
 * Colours of the charts: one per run, in a fixed order, and the axis ink read from the
 * page's theme (CSS custom properties) so the charts follow it.
 */

/** Distinct on the light panels and on a dark background alike (mid lightness, saturated). */
const PALETTE = [
  '#2f6fd0',
  '#d9622b',
  '#2a9d6f',
  '#b43f8f',
  '#7a5cd6',
  '#c9a227',
  '#3aa6b9',
  '#8f5b3a',
  '#5c7a29',
  '#d14b5a',
];

/** The colour of the `index`-th run (the palette repeats after ten). */
export function colorFor(index: number): string {
  return PALETTE[index % PALETTE.length] as string;
}

export interface AxisColors {
  /** Tick labels. */
  text: string;
  /** Grid lines and tick marks. */
  grid: string;
}

/** The theme's muted ink for labels and its hairline colour for the grid. */
export function axisColors(element: Element): AxisColors {
  const style = getComputedStyle(element);
  return {
    text: style.getPropertyValue('--muted').trim() || '#6b7484',
    grid: style.getPropertyValue('--line').trim() || '#e2e5ea',
  };
}
