import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { phasedInterval } from './phased-interval.js';

/** A 1 s phased interval at `phase` of its first interval, counting its ticks. */
function counted(phase: number) {
  let ticks = 0;
  const timer = phasedInterval(
    () => {
      ticks += 1;
    },
    1000,
    () => phase,
  );
  return { timer, ticks: () => ticks };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('phasedInterval', () => {
  it('ticks first at its phase within the interval, then every interval, until stopped', () => {
    const { timer, ticks } = counted(0.25);
    vi.advanceTimersByTime(249);
    expect(ticks()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(ticks()).toBe(1);
    vi.advanceTimersByTime(2000);
    expect(ticks()).toBe(3);
    timer.stop();
    vi.advanceTimersByTime(5000);
    expect(ticks()).toBe(3);
  });

  it('stops before its first tick too', () => {
    const { timer, ticks } = counted(0.5);
    timer.stop();
    vi.advanceTimersByTime(5000);
    expect(ticks()).toBe(0);
  });
});
