import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadRunColumns, MOST_PLOTTED } from './run-columns.js';

/** `/runs` over `count` runs with ids in creation order, answering `$sort[_id]`, `$skip` and `$limit` as the server does. */
function runsServer(count: number) {
  const runs = Array.from({ length: count }, (_, index) => ({
    _id: `r${String(index).padStart(6, '0')}`,
    name: `run-${index}`,
    hparams: { depth: index % 7 },
  }));
  const sorts: string[] = [];
  const fetch = vi.fn(async (path: string) => {
    const query = new URLSearchParams(path.split('?')[1]);
    const sort = [...query.keys()].find((key) => key.startsWith('$sort')) ?? '';
    sorts.push(`${sort}=${query.get(sort)}`);
    const ordered = sort === '$sort[_id]' && query.get(sort) === '-1' ? [...runs].reverse() : runs;
    const skip = Number(query.get('$skip') ?? 0);
    const limit = Number(query.get('$limit') ?? 100);
    const data = ordered.slice(skip, skip + limit);
    return new Response(JSON.stringify({ total: count, limit, skip, data }), {
      headers: { 'content-type': 'application/json' },
    });
  });
  return { fetch, sorts };
}

describe('reading runs as plot columns', () => {
  beforeEach(() => {
    vi.stubGlobal('sessionStorage', { getItem: () => 'token' });
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('reads every run in id order, never sorted on a field the store must sort every page by', async () => {
    const server = runsServer(2500);
    vi.stubGlobal('fetch', server.fetch);
    const columns = await loadRunColumns('', ['hparams.depth'], new AbortController().signal);
    expect(columns.count).toBe(2500);
    expect(new Set(columns.ids).size).toBe(2500);
    expect(Array.from(columns.axes.get('hparams.depth')?.values.slice(0, 8) ?? [])).toEqual([0, 1, 2, 3, 4, 5, 6, 0]);
    expect(new Set(server.sorts)).toEqual(new Set(['$sort[_id]=1']));
  });

  it('plots the newest runs when there are more than it plots', async () => {
    const server = runsServer(MOST_PLOTTED + 50);
    vi.stubGlobal('fetch', server.fetch);
    const columns = await loadRunColumns('', ['hparams.depth'], new AbortController().signal);
    expect(columns.count).toBe(MOST_PLOTTED);
    expect(columns.total).toBe(MOST_PLOTTED + 50);
    expect(columns.ids).toContain(`r${String(MOST_PLOTTED + 49).padStart(6, '0')}`);
    expect(columns.ids).not.toContain('r000049');
    expect(columns.ids).toContain('r000050');
    expect(server.sorts.filter((sort) => sort !== '$sort[_id]=-1')).toEqual(['$sort[_id]=1']);
  });
});
