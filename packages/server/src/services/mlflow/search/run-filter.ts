/**
 * An MLflow runs filter compiled to Larder's query language, so `search_runs` runs in the
 * store's SQL. Each MLflow name becomes the field Larder keeps it in (see
 * `tracking/run-records.ts`): `metrics.k` the summary `metrics.<type>.<name>.last`,
 * `params.k` `hparams.k` (also Larder's number and nested forms), `tags.k` `tags.k`,
 * attributes their run fields, `datasets.*` the run's flat dataset lists. The comparators
 * each kind accepts are MLflow's; an unknown entity, key or comparator is
 * INVALID_PARAMETER_VALUE.
 */
import { and, eq, type FieldPath, type Filter, like, MATCH_ALL, matchFilter, not, or } from '@larder/protocol';
import { seriesOfMetricKey } from '../tracking/metric-keys.js';
import { LARDER_STATUS, MLFLOW_STATUSES, RUN_NAME_TAG } from '../tracking/run-records.js';
import { type Clause, type Comparator, type FilterValue, type Identifier, invalidFilter } from './filter-parser.js';

export type Entity = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset';

const ENTITIES: Record<string, Entity> = {
  metric: 'metric',
  metrics: 'metric',
  parameter: 'param',
  parameters: 'param',
  param: 'param',
  params: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
  dataset: 'dataset',
  datasets: 'dataset',
};

const ATTRIBUTE_ALIASES: Record<string, string> = {
  created: 'start_time',
  Created: 'start_time',
  'run name': 'run_name',
  'Run name': 'run_name',
  'Run Name': 'run_name',
};
export const RUN_ATTRIBUTES = ['run_id', 'run_name', 'user_id', 'status', 'start_time', 'end_time', 'artifact_uri'];
const TIME_ATTRIBUTES = new Set(['start_time', 'end_time']);
const DATASET_FIELDS: Record<string, FieldPath> = {
  name: ['mlflow', 'datasetNames'],
  digest: ['mlflow', 'datasetDigests'],
  context: ['mlflow', 'datasetContexts'],
};

const NUMERIC: readonly Comparator[] = ['=', '!=', '<', '<=', '>', '>='];
const TEXT: readonly Comparator[] = ['=', '!=', 'LIKE', 'ILIKE'];

export function entityOf(identifier: Identifier): { entity: Entity; key: string } {
  const entity = ENTITIES[identifier.entity];
  if (!entity) {
    throw invalidFilter(
      `Invalid entity type '${identifier.entity}'. Valid values are metric(s), param(s), tag(s), attribute(s), dataset(s)`,
    );
  }
  const key = entity === 'attribute' ? (ATTRIBUTE_ALIASES[identifier.key] ?? identifier.key) : identifier.key;
  return { entity, key };
}

function requireComparator(comparator: Comparator, allowed: readonly Comparator[], what: string): void {
  if (!allowed.includes(comparator)) {
    throw invalidFilter(`Invalid comparator '${comparator}' for ${what}: use one of ${allowed.join(', ')}`);
  }
}

function requireString(value: FilterValue, what: string): string {
  if (value.kind !== 'string') throw invalidFilter(`Expected a quoted string value for ${what}, got ${value.text}`);
  return value.text;
}

function requireNumber(value: FilterValue, what: string): number {
  if (value.kind !== 'number' || !Number.isFinite(value.number)) {
    throw invalidFilter(`Expected a numeric value for ${what}, got ${value.text}`);
  }
  return value.number;
}

const RANGE = { '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' } as const;

/** `path comparator value` where the field holds exactly the compared values. */
function compare(paths: readonly FieldPath[], comparator: Comparator, values: readonly (string | number)[]): Filter {
  const any = (build: (path: FieldPath, value: string | number) => Filter) =>
    or(...paths.flatMap((path) => values.map((value) => build(path, value))));
  switch (comparator) {
    case '=':
      return any((path, value) => eq(path, value));
    case '!=':
      // MLflow compares only runs that have the field.
      return and(or(...paths.map((path) => ({ op: 'exists', path, value: true }) as Filter)), not(any(eq)));
    case 'LIKE':
    case 'ILIKE':
      return any((path, value) => like(path, String(value), { caseInsensitive: comparator === 'ILIKE' }));
    case 'IN':
    case 'NOT IN':
      throw invalidFilter('IN takes a list');
    default:
      return any((path, value) => ({ op: RANGE[comparator], path, value }));
  }
}

/** A param as Larder may hold it: MLflow's text, or a number or boolean whose text it is. */
function paramValues(text: string): (string | number)[] {
  const number = Number(text);
  return text.trim() !== '' && Number.isFinite(number) && String(number) === text ? [text, number] : [text];
}

function paramPaths(key: string): FieldPath[] {
  const paths: FieldPath[] = [['hparams', key]];
  const segments = key.split('.');
  if (segments.length > 1 && segments.every((segment) => segment !== '')) paths.push(['hparams', ...segments]);
  return paths;
}

/** Which MLflow statuses a comparison selects, then those as Larder's statuses. */
function statusFilter(comparator: Comparator, values: readonly string[]): Filter {
  const selects = (status: string) => {
    const probe = { s: status };
    const tests = values.map((value) =>
      comparator === 'LIKE' || comparator === 'ILIKE'
        ? matchFilter(probe, like(['s'], value, { caseInsensitive: comparator === 'ILIKE' }))
        : status === value,
    );
    const hit = tests.some(Boolean);
    return comparator === '!=' || comparator === 'NOT IN' ? !hit : hit;
  };
  const chosen = MLFLOW_STATUSES.filter(selects);
  const known = Object.values(LARDER_STATUS);
  return or(
    ...chosen.map((status) =>
      // Statuses Larder does not know read as RUNNING.
      status === 'RUNNING'
        ? or(eq(['status'], 'Running'), not(or(...known.map((each) => eq(['status'], each)))))
        : eq(['status'], LARDER_STATUS[status]),
    ),
    ...(chosen.length === 0 ? [not(MATCH_ALL)] : []),
  );
}

/** Times compare as instants: MLflow's milliseconds against Larder's ISO 8601 text. */
function isoOf(ms: number, what: string): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) throw invalidFilter(`${ms} is not a time in milliseconds for ${what}`);
  return date.toISOString();
}

function attribute(key: string, comparator: Comparator, values: readonly FilterValue[]): Filter {
  const what = `attribute '${key}'`;
  if (!RUN_ATTRIBUTES.includes(key)) {
    throw invalidFilter(`Invalid attribute key '${key}' specified. Valid keys are ${RUN_ATTRIBUTES.join(', ')}`);
  }
  if (TIME_ATTRIBUTES.has(key)) {
    requireComparator(comparator, NUMERIC, what);
    const path = key === 'start_time' ? ['startTime'] : ['endTime'];
    return compare(
      [path],
      comparator,
      values.map((value) => isoOf(requireNumber(value, what), what)),
    );
  }
  const texts = values.map((value) => requireString(value, what));
  if ((comparator === 'IN' || comparator === 'NOT IN') && key !== 'run_id') {
    throw invalidFilter("Only the 'run_id' attribute supports comparison with a list of quoted string values");
  }
  requireComparator(comparator, [...TEXT, 'IN', 'NOT IN'], what);
  if (key === 'status') return statusFilter(comparator, texts);
  const path: FieldPath =
    key === 'run_id'
      ? ['_id']
      : key === 'run_name'
        ? ['name']
        : key === 'user_id'
          ? ['mlflow', 'userId']
          : ['mlflow', 'artifactUri'];
  if (comparator === 'IN') return compare([path], '=', texts);
  if (comparator === 'NOT IN') return not(compare([path], '=', texts));
  return compare([path], comparator, texts);
}

function comparison(identifier: Identifier, comparator: Comparator, values: readonly FilterValue[]): Filter {
  const { entity, key } = entityOf(identifier);
  const what = `${entity} '${key}'`;
  switch (entity) {
    case 'metric': {
      requireComparator(comparator, NUMERIC, what);
      const { type, name } = seriesOfMetricKey(key);
      return compare(
        [['metrics', type, name, 'last']],
        comparator,
        values.map((value) => requireNumber(value, what)),
      );
    }
    case 'param':
    case 'tag': {
      requireComparator(comparator, TEXT, what);
      const text = requireString(values[0] as FilterValue, what);
      if (entity === 'tag') return compare([key === RUN_NAME_TAG ? ['name'] : ['tags', key]], comparator, [text]);
      return compare(
        paramPaths(key),
        comparator,
        comparator === '=' || comparator === '!=' ? paramValues(text) : [text],
      );
    }
    case 'dataset': {
      const path = DATASET_FIELDS[key];
      if (!path) throw invalidFilter(`Invalid dataset key '${key}' specified. Valid keys are name, digest, context`);
      requireComparator(comparator, [...TEXT, 'IN', 'NOT IN'], what);
      const texts = values.map((value) => requireString(value, what));
      if (comparator === 'IN') return compare([path], '=', texts);
      if (comparator === 'NOT IN') return not(compare([path], '=', texts));
      return compare([path], comparator, texts);
    }
    default:
      return attribute(key, comparator, values);
  }
}

/** The Larder filter of an MLflow runs filter clause tree. */
export function compileRunFilter(clause: Clause | undefined): Filter {
  if (!clause) return MATCH_ALL;
  switch (clause.kind) {
    case 'and':
      return and(...clause.clauses.map(compileRunFilter));
    case 'or':
      return or(...clause.clauses.map(compileRunFilter));
    case 'compare':
      return comparison(clause.identifier, clause.comparator, [clause.value]);
    case 'in':
      return comparison(clause.identifier, clause.negated ? 'NOT IN' : 'IN', clause.values);
    case 'null': {
      const { entity, key } = entityOf(clause.identifier);
      const paths: FieldPath[] =
        entity === 'metric'
          ? [['metrics', ...Object.values(seriesOfMetricKey(key))]]
          : entity === 'param'
            ? paramPaths(key)
            : entity === 'tag'
              ? [['tags', key]]
              : [];
      if (paths.length === 0)
        throw invalidFilter(`IS NULL applies to metrics, params and tags, not ${entity} '${key}'`);
      const present = or(...paths.map((path) => ({ op: 'exists', path, value: true }) as Filter));
      return clause.negated ? present : not(present);
    }
  }
}
