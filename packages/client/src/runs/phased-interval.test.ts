import { afterEach, describe, expect, it, vi } from 'vitest';
import { phasedInterval } from './phased-interval.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('phasedInterval', () => {
  it('ticks first at its phase within the interval, then every interval, until stopped', () => {
    vi.useFakeTimers();
    let ticks = 0;
    const timer = phasedInterval(
      () => {
        ticks += 1;
      },
      1000,
      () => 0.25,
    );
    vi.advanceTimersByTime(249);
    expect(ticks).toBe(0);
    vi.advanceTimersByTime(1);
    expect(ticks).toBe(1);
    vi.advanceTimersByTime(2000);
    expect(ticks).toBe(3);
    timer.stop();
    vi.advanceTimersByTime(5000);
    expect(ticks).toBe(3);
  });

  it('stops before its first tick too', () => {
    vi.useFakeTimers();
    let ticks = 0;
    const timer = phasedInterval(
      () => {
        ticks += 1;
      },
      1000,
      () => 0.5,
    );
    timer.stop();
    vi.advanceTimersByTime(5000);
    expect(ticks).toBe(0);
  });
});
