/**
 * The box that follows the cursor over a chart with the step under it and each line's
 * value there (the first dozen lines: a tooltip of fifty rows would hide the chart).
 * Built from text nodes, so a run's name is never read as HTML.
 */
import { formatStep, formatTick } from './chart-scales.js';

export interface TooltipRow {
  label: string;
  color: string;
  value: number;
}

const MOST_ROWS = 12;
const WIDTH_GUESS = 180;

export class ChartTooltip {
  private readonly element = document.createElement('div');

  constructor(container: HTMLElement) {
    this.element.className = 'chart-tooltip';
    container.append(this.element);
  }

  /** Shows `rows` for `step`, beside `left` (px from the container's left), within `width`. */
  show(step: number, rows: readonly TooltipRow[], left: number, top: number, width: number): void {
    const heading = document.createElement('b');
    heading.textContent = `step ${formatStep(Math.round(step))}`;
    const lines: (Node | string)[] = [heading];
    for (const row of rows.slice(0, MOST_ROWS)) {
      const line = document.createElement('div');
      const swatch = document.createElement('span');
      swatch.style.color = row.color;
      swatch.textContent = '● ';
      line.append(swatch, `${row.label}: ${formatTick(row.value)}`);
      lines.push(line);
    }
    if (rows.length > MOST_ROWS) lines.push(`+${rows.length - MOST_ROWS} more`);
    this.element.replaceChildren(...lines);
    Object.assign(this.element.style, {
      display: 'block',
      left: `${Math.max(0, Math.min(left + 12, width - WIDTH_GUESS))}px`,
      top: `${top}px`,
    });
  }

  hide(): void {
    this.element.style.display = 'none';
  }

  remove(): void {
    this.element.remove();
  }
}
