import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadRunColumns, MOST_PLOTTED } from './run-columns.js';

/** `/runs` over `count` runs with ids in creation order, answering `$sort[_id]`, `$skip` and `$limit` as the server does. */
function runsServer(count: number) {
  const runs: { _id: string; name: string; hparams: { depth: number } }[] = Array.from(
    { length: count },
    (_, index) => ({
      _id: `r${String(index).padStart(6, '0')}`,
      name: `run-${index}`,
      hparams: { depth: index % 7 },
    }),
  );
  const sorts: string[] = [];
  const fetch = vi.fn(async (path: string) => {
    const query = new URLSearchParams(path.split('?')[1]);
    const sort = [...query.keys()].find((key) => key.startsWith('$sort')) ?? '';
    sorts.push(`${sort}=${query.get(sort)}`);
    const ordered = sort === '$sort[_id]' && query.get(sort) === '-1' ? [...runs].reverse() : runs;
    const skip = Number(query.get('$skip') ?? 0);
    const limit = Number(query.get('$limit') ?? 100);
    const data = ordered.slice(skip, skip + limit);
    return new Response(JSON.stringify({ total: runs.length, limit, skip, data }), {
      headers: { 'content-type': 'application/json' },
    });
  });
  return { fetch, sorts, runs };
}

describe('reading runs as plot columns', () => {
  beforeEach(() => {
    vi.stubGlobal('sessionStorage', { getItem: () => 'token' });
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('reads every run newest id first, never sorted on a field the store must sort every page by', async () => {
    const server = runsServer(2500);
    vi.stubGlobal('fetch', server.fetch);
    const columns = await loadRunColumns('', ['hparams.depth'], new AbortController().signal);
    expect(columns.count).toBe(2500);
    expect(new Set(columns.ids).size).toBe(2500);
    expect(columns.ids[0]).toBe('r002499');
    // Run 2499 has depth 2499 % 7 = 0, then 6, 5, 4…
    expect(Array.from(columns.axes.get('hparams.depth')?.values.slice(0, 8) ?? [])).toEqual([0, 6, 5, 4, 3, 2, 1, 0]);
    expect(new Set(server.sorts)).toEqual(new Set(['$sort[_id]=-1']));
  });

  it('plots the newest runs when there are more than it plots', async () => {
    const server = runsServer(MOST_PLOTTED + 50);
    vi.stubGlobal('fetch', server.fetch);
    const columns = await loadRunColumns('', ['hparams.depth'], new AbortController().signal);
    expect(columns.count).toBe(MOST_PLOTTED);
    expect(columns.total).toBe(MOST_PLOTTED + 50);
    expect(columns.ids).toContain(`r${String(MOST_PLOTTED + 49).padStart(6, '0')}`);
    expect(columns.ids).toContain('r000050');
    expect(columns.ids).not.toContain('r000049');
  });

  it('keeps once a run that a run created during the read pushed onto the next page', async () => {
    const server = runsServer(1500);
    let reads = 0;
    vi.stubGlobal('fetch', async (path: string) => {
      // The second page is read after a new run has moved every run down by one.
      if (reads++ === 1) server.runs.push({ _id: 'r999999', name: 'new', hparams: { depth: 1 } });
      return server.fetch(path);
    });
    const columns = await loadRunColumns('', ['hparams.depth'], new AbortController().signal);
    expect(new Set(columns.ids).size).toBe(columns.ids.length);
    expect(columns.ids).toContain('r000000');
    expect(columns.ids).toContain('r001000');
  });
});
