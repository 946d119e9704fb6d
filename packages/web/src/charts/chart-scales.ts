/** Axis arithmetic for the charts: extents, "nice" tick steps, log scales, smoothing. */

/** Tick values covering [min, max] at round steps (1, 2, 5 × 10^k), about `count` of them. */
export function niceTicks(min: number, max: number, count: number): number[] {
  if (!(Number.isFinite(min) && Number.isFinite(max)) || max <= min) return [min];
  const rough = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((factor) => factor * power).find((candidate) => candidate >= rough) ?? rough;
  const ticks: number[] = [];
  for (let tick = Math.ceil(min / step) * step; tick <= max + step * 1e-9; tick += step) {
    ticks.push(Math.abs(tick) < step * 1e-9 ? 0 : tick);
  }
  return ticks;
}

/**
 * Ticks of a log axis, as exponents (log10 of the value) within [minExponent, maxExponent]:
 * powers of ten when the axis spans several decades, else round values between them.
 */
export function logTicks(minExponent: number, maxExponent: number, count: number): number[] {
  const powers: number[] = [];
  const every = Math.max(1, Math.ceil((maxExponent - minExponent) / Math.max(1, count)));
  for (let exponent = Math.ceil(minExponent); exponent <= maxExponent + 1e-9; exponent += every) powers.push(exponent);
  if (powers.length >= 3) return powers;
  return niceTicks(10 ** minExponent, 10 ** maxExponent, count)
    .filter((value) => value > 0)
    .map((value) => Math.log10(value));
}

export function formatTick(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude === 0) return '0';
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(1);
  return Number(value.toPrecision(4)).toString();
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
