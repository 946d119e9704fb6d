import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RunRows } from './run-rows.js';

/** A server of `count()` runs named by index, answering `$skip`/`$limit` pages as the runs service does. */
function fakeServer(count: () => number) {
  const asked: string[] = [];
  vi.stubGlobal('sessionStorage', { getItem: () => 'token' });
  vi.stubGlobal(
    'fetch',
    vi.fn(async (path: string) => {
      asked.push(path);
      const query = new URLSearchParams(path.slice(path.indexOf('?') + 1));
      const [skip, limit] = [Number(query.get('$skip')), Number(query.get('$limit'))];
      const total = count();
      const data = Array.from({ length: Math.max(0, Math.min(limit, total - skip)) }, (_, index) => ({
        _id: `r${skip + index}`,
        name: `run-${skip + index}`,
      }));
      return new Response(JSON.stringify({ total, limit, skip, data }), { status: 200 });
    }),
  );
  return asked;
}

describe('RunRows', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('loads the pages in view once scrolling settles', async () => {
    fakeServer(() => 1000);
    const rows = new RunRows('$sort[createdAt]=-1', () => {});
    await rows.start();
    rows.want(600, 640);
    rows.want(900, 950);
    await vi.advanceTimersByTimeAsync(100);
    expect(rows.row(920)?.name).toBe('run-920');
    expect(rows.row(620)).toBeUndefined();
  });

  it('still reloads after runs were created when the user scrolls in the meantime', async () => {
    let count = 1000;
    fakeServer(() => count);
    const rows = new RunRows('$sort[createdAt]=-1', () => {});
    await rows.start();
    count = 1001;
    rows.reload();
    // Scrolling before the reload's delay is over must not cancel it.
    rows.want(0, 30);
    await vi.advanceTimersByTimeAsync(1000);
    expect(rows.total).toBe(1001);
  });
});
