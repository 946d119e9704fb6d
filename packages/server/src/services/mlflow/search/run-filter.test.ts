import { matchFilter } from '@larder/protocol';
import { describe, expect, it } from 'vitest';
import { MlflowError } from '../mlflow-errors.js';
import { parseFilterString } from './filter-parser.js';
import { runSortKeys } from './order-by.js';
import { compileRunFilter } from './run-filter.js';

/** Runs as Larder stores them: MLflow's and the SDK's. */
const RUNS = [
  {
    _id: 'r1',
    name: 'alpha',
    status: 'Complete',
    startTime: '2024-01-01T00:00:00.000Z',
    hparams: { lr: '0.1', opt: 'adam', 'layers.depth': '3' },
    tags: { team: 'vision', 'mlflow.user': 'ada' },
    metrics: { mlflow: { loss: { last: 0.2 } }, val: { acc: { last: 0.9 } } },
    mlflow: { datasetNames: ['mnist'], datasetContexts: ['training'], userId: 'ada' },
  },
  {
    _id: 'r2',
    name: 'Beta',
    status: 'Running',
    startTime: '2024-06-01T00:00:00.000Z',
    hparams: { lr: 0.01, optimizer: { name: 'sgd' } },
    tags: { team: 'nlp' },
    metrics: { mlflow: { loss: { last: 0.7 } } },
  },
  { _id: 'r3', name: 'gamma', status: 'epoch', startTime: '2025-01-01T00:00:00.000Z', hparams: {}, tags: {} },
];

const ids = (filter: string) =>
  RUNS.filter((run) => matchFilter(run, compileRunFilter(parseFilterString(filter)))).map((run) => run._id);

describe('MLflow runs filters compiled to the query language', () => {
  it('compares metrics by their latest value, only on runs that have them', () => {
    expect(ids('metrics.loss < 0.5')).toEqual(['r1']);
    expect(ids('metrics.loss != 0.2')).toEqual(['r2']);
    expect(ids('metrics.`val/acc` >= 0.9')).toEqual(['r1']);
  });

  it("matches params as MLflow's text and as Larder's numbers and nested fields", () => {
    expect(ids("params.lr = '0.1'")).toEqual(['r1']);
    expect(ids("params.lr = '0.01'")).toEqual(['r2']);
    expect(ids("params.`optimizer.name` = 'sgd'")).toEqual(['r2']);
    expect(ids("params.`layers.depth` = '3'")).toEqual(['r1']);
    expect(ids("params.opt != 'sgd'")).toEqual(['r1']);
    expect(ids("params.opt LIKE 'ad%'")).toEqual(['r1']);
  });

  it('matches tags, the run name tag and attributes', () => {
    expect(ids("tags.team ILIKE 'VIS%'")).toEqual(['r1']);
    expect(ids("tags.`mlflow.runName` = 'Beta'")).toEqual(['r2']);
    expect(ids("attributes.run_name LIKE 'b%'")).toEqual([]);
    expect(ids("attributes.run_name ILIKE 'b%'")).toEqual(['r2']);
    expect(ids("run_id IN ('r1', 'r3')")).toEqual(['r1', 'r3']);
    expect(ids("attributes.run_id NOT IN ('r1')")).toEqual(['r2', 'r3']);
    expect(ids('attributes.start_time > 1704067200000')).toEqual(['r2', 'r3']);
    expect(ids('created <= 1704067200000')).toEqual(['r1']);
    expect(ids("attributes.user_id = 'ada'")).toEqual(['r1']);
  });

  it("maps statuses, reading Larder's unknown ones as RUNNING", () => {
    expect(ids("status = 'FINISHED'")).toEqual(['r1']);
    expect(ids("status = 'RUNNING'")).toEqual(['r2', 'r3']);
    expect(ids("status != 'RUNNING'")).toEqual(['r1']);
    expect(ids("status LIKE 'FIN%'")).toEqual(['r1']);
  });

  it('matches dataset inputs, OR and parentheses, IS NULL', () => {
    expect(ids("datasets.name = 'mnist'")).toEqual(['r1']);
    expect(ids("datasets.context IN ('training', 'eval')")).toEqual(['r1']);
    expect(ids("tags.team = 'nlp' OR metrics.loss < 0.5")).toEqual(['r1', 'r2']);
    expect(ids("(tags.team = 'nlp' OR tags.team = 'vision') AND params.opt = 'adam'")).toEqual(['r1']);
    expect(ids('tags.team IS NULL')).toEqual(['r3']);
    expect(ids('metrics.loss IS NOT NULL')).toEqual(['r1', 'r2']);
  });

  it("refuses what MLflow refuses, with MLflow's error code", () => {
    for (const bad of [
      "metrics.loss = 'x'",
      'params.lr = 0.1',
      "metrics.loss LIKE '%'",
      "params.lr IN ('a')",
      "attributes.status IN ('FINISHED')",
      "attributes.nope = 'x'",
      "datasets.size = 'x'",
      "thing.x = 'y'",
      "start_time = 'yesterday'",
    ]) {
      expect(() => compileRunFilter(parseFilterString(bad)), bad).toThrow(MlflowError);
    }
  });
});

describe('MLflow order_by', () => {
  it('sorts on the fields filters use, newest start first by default', () => {
    expect(runSortKeys([])).toEqual([{ path: ['startTime'], direction: -1 }]);
    expect(runSortKeys(['metrics.loss DESC', 'params.lr', 'tags.`a b` asc', 'attributes.run_name'])).toEqual([
      { path: ['metrics', 'mlflow', 'loss', 'last'], direction: -1 },
      { path: ['hparams', 'lr'], direction: 1 },
      { path: ['tags', 'a b'], direction: 1 },
      { path: ['name'], direction: 1 },
    ]);
    expect(() => runSortKeys(['datasets.name'])).toThrow(MlflowError);
    expect(() => runSortKeys(['metrics.loss sideways'])).toThrow(MlflowError);
  });
});
