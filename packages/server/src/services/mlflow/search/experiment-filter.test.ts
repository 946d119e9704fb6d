import { matchFilter } from '@larder/protocol';
import { describe, expect, it } from 'vitest';
import type { Actor } from '../../../auth/actor.js';
import { MlflowError } from '../mlflow-errors.js';
import { compileExperimentFilter, experimentSortKeys } from './experiment-filter.js';
import { parseFilterString } from './filter-parser.js';

const ada: Actor = { kind: 'user', user: { _id: 'u1', email: 'ada@example.org', role: 'user' } };

/** Folders as Larder stores them, named as MLflow sees them from ada's side. */
const FOLDERS = [
  { _id: 'f0', path: '/ada@example.org/default', createdAt: '2024-01-01T00:00:00.000Z' },
  {
    _id: 'f1',
    path: '/ada@example.org/mnist',
    createdAt: '2024-02-01T00:00:00.000Z',
    mlflow: { tags: { team: 'vision' } },
  },
  { _id: 'f2', path: '/ada@example.org/mnist/cnn', createdAt: '2024-03-01T00:00:00.000Z', description: 'convnets' },
  { _id: 'f3', path: '/vision-lab/shared', createdAt: '2024-04-01T00:00:00.000Z', mlflow: { tags: { team: 'nlp' } } },
];

const ids = (filter: string) =>
  FOLDERS.filter((folder) => matchFilter(folder, compileExperimentFilter(ada, parseFilterString(filter)))).map(
    (folder) => folder._id,
  );

describe('MLflow experiments filters over folders', () => {
  it('matches names relative to the home, absolute names, and Default', () => {
    expect(ids("name = 'mnist'")).toEqual(['f1']);
    expect(ids("name = 'mnist/cnn'")).toEqual(['f2']);
    expect(ids("name = '/vision-lab/shared'")).toEqual(['f3']);
    expect(ids("name = 'Default'")).toEqual(['f0']);
    expect(ids("name = 'default'")).toEqual([]);
    expect(ids("name != 'mnist'")).toEqual(['f0', 'f2', 'f3']);
    expect(ids("name LIKE 'mni%'")).toEqual(['f1', 'f2']);
    expect(ids("name ILIKE 'DEF%'")).toEqual(['f0']);
  });

  it('matches tags (the note tag is the description), times, OR and parentheses', () => {
    expect(ids("tags.team = 'vision'")).toEqual(['f1']);
    expect(ids("tags.team != 'vision'")).toEqual(['f3']);
    expect(ids("tags.`mlflow.note.content` LIKE 'conv%'")).toEqual(['f2']);
    expect(ids('creation_time >= 1709251200000')).toEqual(['f2', 'f3']);
    expect(ids("tags.team = 'nlp' OR (name LIKE 'mnist%' AND creation_time < 1706745600001)")).toEqual(['f1', 'f3']);
    expect(ids('tags.team IS NULL')).toEqual(['f0', 'f2']);
  });

  it("refuses what MLflow refuses, with MLflow's error code", () => {
    for (const bad of ["metrics.x = 'a'", 'name = 3', "creation_time = 'today'", "nope = 'x'", "name IN ('a')"]) {
      expect(() => compileExperimentFilter(ada, parseFilterString(bad)), bad).toThrow(MlflowError);
    }
  });

  it('orders by name, id and times, the newest first by default', () => {
    expect(experimentSortKeys([])).toEqual([{ path: ['createdAt'], direction: -1 }]);
    expect(experimentSortKeys(['name DESC', 'last_update_time'])).toEqual([
      { path: ['path'], direction: -1 },
      { path: ['updatedAt'], direction: 1 },
    ]);
    expect(() => experimentSortKeys(['tags.team'])).toThrow(MlflowError);
  });
});
