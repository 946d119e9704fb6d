/** Numbers for the charts: how ticks read, smoothing, finding a step. */

/** A value as a tick or tooltip shows it: four significant digits, exponents for the extremes. */
export function formatTick(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude === 0) return '0';
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(1);
  return Number(value.toPrecision(4)).toString();
}

const COMPACT = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 2 });

const SUFFIXES: Record<string, number> = { K: 1e3, M: 1e6, B: 1e9, T: 1e12 };

/**
 * A step as the x axis shows it: 950, 7500, 12.5K, 1.2M; written out in full (100005) when
 * the short form would round it, so close ticks of a deep zoom stay distinct.
 */
export function formatStep(step: number): string {
  const plain = Number(step.toPrecision(12)).toString();
  if (Math.abs(step) < 1e4) return plain;
  const short = COMPACT.format(step);
  const suffix = short.at(-1) ?? '';
  return Number.parseFloat(short) * (SUFFIXES[suffix] ?? 1) === step ? short : plain;
}

const ONE_TWO_FIVE = [1, 2, 5, 10];

/**
 * A log axis's range: [min, max] widened to the nearest 1, 2 or 5 × 10^k outside it (whole
 * decades would leave much of the chart empty: data up to 2.1 would reach 10).
 */
export function logRange(min: number | null, max: number | null): [number, number] {
  if (min === null || max === null || !(min > 0) || !(max > 0)) return [1, 10];
  if (min === max) return [roundLog(min / 2, false), roundLog(max * 2, true)];
  return [roundLog(min, false), roundLog(max, true)];
}

function roundLog(value: number, up: boolean): number {
  const decade = 10 ** Math.floor(Math.log10(value));
  const scaled = (value / decade) * (1 + (up ? -1e-9 : 1e-9));
  const factor = up
    ? (ONE_TWO_FIVE.find((step) => step >= scaled) ?? 10)
    : (ONE_TWO_FIVE.findLast((step) => step <= scaled) ?? 1);
  return Number((factor * decade).toPrecision(12));
}

/**
 * Exponential moving average with the start-up bias removed (so the first points are not
 * pulled towards zero); `weight` 0 keeps the series, 0.99 smooths hard. Gaps stay gaps.
 */
export function smooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values as (number | null)[];
  let average = 0;
  let total = 0;
  return values.map((value) => {
    if (value === null || !Number.isFinite(value)) return null;
    average = average * weight + (1 - weight) * value;
    total = total * weight + (1 - weight);
    return average / total;
  });
}

/** Index of the first step >= `step` in ascending `steps`. */
export function lowerBound(steps: readonly number[], step: number): number {
  let low = 0;
  let high = steps.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((steps[middle] as number) < step) low = middle + 1;
    else high = middle;
  }
  return low;
}
