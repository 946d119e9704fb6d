/**
 * A repeating timer whose first tick falls at a random point of its first interval. Runs
 * started together (a sweep, or 100 runs of 10 processes) would otherwise flush and upload
 * at the same moments, every interval: the server then takes all their batches as one burst
 * and each waits for the ones before it.
 */

export interface PhasedInterval {
  stop(): void;
}

/**
 * Calls `tick` every `intervalMs`, the first time after a random part of an interval; the
 * timer never keeps the process alive.
 *
 * @example
 * const flushes = phasedInterval(() => writer.flush(), 1000);
 * flushes.stop();
 */
export function phasedInterval(
  tick: () => void,
  intervalMs: number,
  random: () => number = Math.random,
): PhasedInterval {
  let timer = setTimeout(() => {
    timer = setInterval(tick, intervalMs);
    timer.unref();
    tick();
  }, random() * intervalMs);
  timer.unref();
  // clearTimeout clears an interval too (one kind of timer in Node, as in browsers).
  return { stop: () => clearTimeout(timer) };
}
