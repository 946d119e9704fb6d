import { describe, expect, it } from 'vitest';
import { encodeQuery } from '../../../api/query-string.js';
import { brushConditions, brushQuery, selectRuns } from './brushes.js';
import { plotAxis, type RunColumns } from './run-columns.js';

const columns = (fields: Record<string, unknown[]>): RunColumns => {
  const count = Object.values(fields)[0]?.length ?? 0;
  return {
    count,
    total: count,
    ids: Array.from({ length: count }, (_, index) => `r${index}`),
    names: Array.from({ length: count }, (_, index) => `run ${index}`),
    axes: new Map(Object.entries(fields).map(([path, values]) => [path, plotAxis(path, values)])),
    loadMs: 0,
  };
};

describe('brushes on plot axes', () => {
  const runs = columns({
    'hparams.depth': [0, 2, 4, 6, 8, 10],
    'hparams.optimizer': ['adam', 'sgd', 'adam', 'rmsprop', 'sgd', undefined],
  });

  it('select the runs inside every brush and say the same to the server', () => {
    const conditions = brushConditions(runs, [
      { path: 'hparams.depth', from: 0.3, to: 0.9 },
      { path: 'hparams.optimizer', from: 0.9, to: 1 },
    ]);
    expect(Array.from(selectRuns(runs, conditions) ?? [])).toEqual([0, 0, 0, 0, 1, 0]);
    expect(decodeURIComponent(encodeQuery(brushQuery(conditions)))).toBe(
      '$and[0][hparams.depth][$gte]=3&$and[0][hparams.depth][$lte]=9&$and[1][hparams.optimizer][$in][]=sgd',
    );
  });

  it('keep the nearest category when a brush falls between two, and runs without a value out', () => {
    const [condition] = brushConditions(runs, [{ path: 'hparams.optimizer', from: 0.3, to: 0.4 }]);
    expect(condition).toMatchObject({ kind: 'in', values: ['rmsprop'] });
    expect(Array.from(selectRuns(runs, condition ? [condition] : []) ?? [])).toEqual([0, 0, 0, 1, 0, 0]);
  });

  it('select every run when there is no brush', () => {
    expect(selectRuns(runs, [])).toBeNull();
    expect(brushQuery([])).toEqual({});
  });
});
