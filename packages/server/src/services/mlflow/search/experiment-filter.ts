/**
 * MLflow's experiments filter and order (`name LIKE 'mnist%'`, `tags.team = 'vision'`,
 * `creation_time > 1700000000000`; `order_by: ["last_update_time DESC"]`) over folder records.
 * Names are folder paths relative to the caller's home, so a name test becomes a path test
 * under the home or on the absolute path; `Default` is the caller's default folder.
 */
import {
  and,
  eq,
  type FieldPath,
  type Filter,
  like,
  MATCH_ALL,
  matchFilter,
  not,
  or,
  type SortKey,
} from '@larder/protocol';
import type { Actor } from '../../../auth/actor.js';
import { homeOf } from '../../folders/folder-paths.js';
import { DEFAULT_EXPERIMENT_NAME, defaultFolderOf, NOTE_TAG } from '../tracking/experiment-folders.js';
import { type Clause, type Comparator, type FilterValue, invalidFilter, parseIdentifier } from './filter-parser.js';
import { splitOrderBy } from './order-by.js';

const ATTRIBUTES = ['name', 'creation_time', 'last_update_time'];
const ORDER_FIELDS: Record<string, FieldPath> = {
  name: ['path'],
  experiment_id: ['_id'],
  creation_time: ['createdAt'],
  last_update_time: ['updatedAt'],
};
const RANGE = { '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' } as const;

function kindOf(entity: string): 'attribute' | 'tag' {
  if (['attribute', 'attributes', 'attr'].includes(entity)) return 'attribute';
  if (entity === 'tag' || entity === 'tags') return 'tag';
  throw invalidFilter(`Invalid entity type '${entity}' for experiments: use attribute(s) or tag(s)`);
}

function text(value: FilterValue, what: string): string {
  if (value.kind !== 'string') throw invalidFilter(`Expected a quoted string value for ${what}, got ${value.text}`);
  return value.text;
}

function textComparison(path: FieldPath, comparator: Comparator, value: string): Filter {
  switch (comparator) {
    case '=':
      return eq(path, value);
    case '!=':
      return and({ op: 'exists', path, value: true }, not(eq(path, value)));
    case 'LIKE':
    case 'ILIKE':
      return like(path, value, { caseInsensitive: comparator === 'ILIKE' });
    default:
      throw invalidFilter(`Invalid comparator '${comparator}' for a string: use =, !=, LIKE or ILIKE`);
  }
}

/** A name test as path tests: under the caller's home, absolutely, and `Default`. */
function nameComparison(actor: Actor, comparator: Comparator, name: string): Filter {
  const home = homeOf(actor);
  const isDefault = matchFilter(
    { n: DEFAULT_EXPERIMENT_NAME },
    comparator === '=' || comparator === '!='
      ? eq(['n'], name)
      : like(['n'], name, { caseInsensitive: comparator === 'ILIKE' }),
  );
  const defaultPath = eq(['path'], defaultFolderOf(actor));
  if (comparator === '!=') return not(nameComparison(actor, '=', name));
  if (comparator !== '=' && comparator !== 'LIKE' && comparator !== 'ILIKE') {
    throw invalidFilter(`Invalid comparator '${comparator}' for the experiment name: use =, !=, LIKE or ILIKE`);
  }
  const byPath = or(
    textComparison(['path'], comparator, name.startsWith('/') ? name : `${home}/${name}`),
    ...(comparator === '=' ? [] : [textComparison(['path'], comparator, name)]),
  );
  // The default folder is named `Default`, not `default`.
  return isDefault ? or(defaultPath, and(not(defaultPath), byPath)) : and(not(defaultPath), byPath);
}

function comparison(actor: Actor, entity: string, key: string, comparator: Comparator, value: FilterValue): Filter {
  if (kindOf(entity) === 'tag') {
    const path: FieldPath = key === NOTE_TAG ? ['description'] : ['mlflow', 'tags', key];
    return textComparison(path, comparator, text(value, `tag '${key}'`));
  }
  if (!ATTRIBUTES.includes(key)) {
    throw invalidFilter(`Invalid attribute key '${key}' specified. Valid keys are ${ATTRIBUTES.join(', ')}`);
  }
  if (key === 'name') return nameComparison(actor, comparator, text(value, 'the experiment name'));
  if (value.kind !== 'number') throw invalidFilter(`Expected a numeric value for ${key}, got ${value.text}`);
  const date = new Date(value.number);
  if (Number.isNaN(date.getTime())) throw invalidFilter(`${value.text} is not a time in milliseconds`);
  const path = key === 'creation_time' ? ['createdAt'] : ['updatedAt'];
  const iso = date.toISOString();
  if (comparator === '=') return eq(path, iso);
  if (comparator === '!=') return not(eq(path, iso));
  if (comparator === 'LIKE' || comparator === 'ILIKE' || comparator === 'IN' || comparator === 'NOT IN') {
    throw invalidFilter(`Invalid comparator '${comparator}' for ${key}: use =, !=, <, <=, > or >=`);
  }
  return { op: RANGE[comparator], path, value: iso };
}

export function compileExperimentFilter(actor: Actor, clause: Clause | undefined): Filter {
  if (!clause) return MATCH_ALL;
  switch (clause.kind) {
    case 'and':
      return and(...clause.clauses.map((each) => compileExperimentFilter(actor, each)));
    case 'or':
      return or(...clause.clauses.map((each) => compileExperimentFilter(actor, each)));
    case 'compare':
      return comparison(actor, clause.identifier.entity, clause.identifier.key, clause.comparator, clause.value);
    case 'in':
      throw invalidFilter('Experiments filters do not take IN lists');
    case 'null': {
      if (kindOf(clause.identifier.entity) !== 'tag') throw invalidFilter('IS NULL applies to experiment tags');
      const present: Filter = { op: 'exists', path: ['mlflow', 'tags', clause.identifier.key], value: true };
      return clause.negated ? present : not(present);
    }
  }
}

/** Experiments' order; MLflow's default is the newest first. */
export function experimentSortKeys(orderBy: readonly string[]): SortKey[] {
  const keys = orderBy.map((clause): SortKey => {
    const { key: keyText, direction } = splitOrderBy(clause);
    const identifier = parseIdentifier(keyText);
    const path = kindOf(identifier.entity) === 'attribute' ? ORDER_FIELDS[identifier.key] : undefined;
    if (!path) {
      throw invalidFilter(
        `Invalid order_by key '${keyText}': experiments order by ${Object.keys(ORDER_FIELDS).join(', ')}`,
      );
    }
    return { path, direction };
  });
  return keys.length > 0 ? keys : [{ path: ['createdAt'], direction: -1 }];
}
