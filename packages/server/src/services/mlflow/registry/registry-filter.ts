/**
 * The filter strings of MLflow's registry searches (`search_registered_models`,
 * `search_model_versions`, `search_logged_models`): comparisons joined by `AND`, on
 * attributes (`name`, `run_id`, `version_number`…) or `tags.<key>` (a key with dots in
 * backticks or double quotes), with `= != < <= > >= LIKE ILIKE IN NOT IN` and quoted
 * strings or numbers, as MLflow's registry parses them. Evaluated on the candidates the
 * caller may read (a registry search never spans more than the caller's models).
 *
 * @example
 * const match = parseRegistryFilter("name LIKE 'fraud-%' AND tags.`team.owner` = 'risk'", ['name']);
 * match({ attributes: { name: 'fraud-v2' }, tags: { 'team.owner': 'risk' } }); // true
 */
import { MlflowError } from '../mlflow-errors.js';

export interface Searchable {
  attributes: Record<string, string | number | null>;
  tags: Record<string, string>;
  params?: Record<string, string>;
}

type Value = string | number | (string | number)[];
interface Comparison {
  kind: 'attributes' | 'tags' | 'params';
  key: string;
  op: string;
  value: Value;
}

const OPERATORS = ['!=', '<=', '>=', '=', '<', '>'];

/**
 * Other spellings of the entities, for the searches that have them: trace searches read
 * `metadata.<key>` (kept as `params`) and `trace.<attribute>`.
 */
export interface FilterEntities {
  params?: readonly string[];
  attributes?: readonly string[];
}

export function parseRegistryFilter(
  filter: string | undefined,
  attributes: readonly string[],
  entities: FilterEntities = {},
): (candidate: Searchable) => boolean {
  if (filter === undefined || filter.trim() === '') return () => true;
  const comparisons = parseComparisons(filter, attributes, entities);
  return (candidate) => comparisons.every((comparison) => holds(comparison, candidate));
}

function parseComparisons(filter: string, attributes: readonly string[], entities: FilterEntities): Comparison[] {
  const comparisons: Comparison[] = [];
  let rest = filter.trim();
  for (;;) {
    const [comparison, after] = parseComparison(rest, attributes, filter, entities);
    comparisons.push(comparison);
    rest = after.trim();
    if (rest === '') return comparisons;
    const and = /^AND\s+/i.exec(rest);
    if (!and) throw invalid(filter, `expected AND before "${rest.slice(0, 40)}"`);
    rest = rest.slice(and[0].length);
  }
}

function parseComparison(
  text: string,
  attributes: readonly string[],
  filter: string,
  entities: FilterEntities,
): [Comparison, string] {
  const [identifier, afterIdentifier] = parseIdentifier(text, filter);
  let kind: Comparison['kind'] = 'attributes';
  let key = identifier;
  const dot = identifier.indexOf('.');
  const prefix = dot > 0 ? identifier.slice(0, dot).toLowerCase() : '';
  const paramPrefixes = ['params', 'param', ...(entities.params ?? [])];
  if (prefix === 'tags' || prefix === 'tag' || paramPrefixes.includes(prefix)) {
    kind = prefix.startsWith('tag') ? 'tags' : 'params';
    key = unquote(identifier.slice(dot + 1));
  } else {
    if (['attributes', 'attribute', ...(entities.attributes ?? [])].includes(prefix)) key = identifier.slice(dot + 1);
    if (!attributes.includes(key)) {
      throw invalid(filter, `invalid attribute key '${key.slice(0, 60)}': use ${attributes.join(', ')} or tags.<key>`);
    }
  }
  let rest = afterIdentifier.trimStart();
  let op: string | undefined;
  const word = /^(NOT\s+IN|ILIKE|LIKE|IN)\b/i.exec(rest);
  if (word) {
    op = word[1]?.toUpperCase().replace(/\s+/, ' ');
    rest = rest.slice(word[0].length);
  } else {
    op = OPERATORS.find((candidate) => rest.startsWith(candidate));
    if (op) rest = rest.slice(op.length);
  }
  if (!op) throw invalid(filter, `expected a comparison operator after '${identifier.slice(0, 60)}'`);
  const [value, after] = parseValue(rest.trimStart(), filter, op === 'IN' || op === 'NOT IN');
  return [{ kind, key, op, value }, after];
}

function parseIdentifier(text: string, filter: string): [string, string] {
  const match = /^([A-Za-z_][A-Za-z0-9_]*\.)?(`[^`]*`|"[^"]*"|[A-Za-z0-9_.\-:/]+)/.exec(text);
  if (!match) throw invalid(filter, `expected a key at "${text.slice(0, 40)}"`);
  const [whole, prefix = '', key = ''] = match;
  return [prefix ? `${prefix}${key}` : unquote(key), text.slice(whole.length)];
}

function parseValue(text: string, filter: string, list: boolean): [Value, string] {
  if (list) {
    if (!text.startsWith('(')) throw invalid(filter, 'IN takes a parenthesised list of quoted values');
    const close = text.indexOf(')');
    if (close < 0) throw invalid(filter, 'unclosed list');
    const items = [...text.slice(1, close).matchAll(/'((?:[^']|'')*)'|"((?:[^"]|"")*)"/g)].map(
      (match) => match[1]?.replace(/''/g, "'") ?? match[2]?.replace(/""/g, '"') ?? '',
    );
    if (items.length === 0) throw invalid(filter, 'IN takes a non-empty list of quoted values');
    return [items, text.slice(close + 1)];
  }
  const quoted = /^'((?:[^']|'')*)'|^"((?:[^"]|"")*)"/.exec(text);
  if (quoted) {
    const value = quoted[1] !== undefined ? quoted[1].replace(/''/g, "'") : (quoted[2] ?? '').replace(/""/g, '"');
    return [value, text.slice(quoted[0].length)];
  }
  const number = /^-?\d+(\.\d+)?/.exec(text);
  if (number) return [Number(number[0]), text.slice(number[0].length)];
  throw invalid(filter, `expected a quoted value at "${text.slice(0, 40)}"`);
}

function holds(comparison: Comparison, candidate: Searchable): boolean {
  const source = comparison.kind === 'attributes' ? candidate.attributes : (candidate[comparison.kind] ?? {});
  const actual = Object.hasOwn(source, comparison.key) ? source[comparison.key] : undefined;
  if (actual === undefined || actual === null) return comparison.op === '!=' || comparison.op === 'NOT IN';
  const { op, value } = comparison;
  if (op === 'IN' || op === 'NOT IN') {
    const found = (value as (string | number)[]).some((each) => String(each) === String(actual));
    return op === 'IN' ? found : !found;
  }
  if (op === 'LIKE' || op === 'ILIKE') return like(String(actual), String(value), op === 'ILIKE');
  const numeric = typeof actual === 'number' || typeof value === 'number';
  const left = numeric ? Number(actual) : String(actual);
  const right = numeric ? Number(value) : String(value);
  if (op === '=') return left === right;
  if (op === '!=') return left !== right;
  if (op === '<') return left < right;
  if (op === '<=') return left <= right;
  if (op === '>') return left > right;
  return left >= right;
}

function like(text: string, pattern: string, caseInsensitive: boolean): boolean {
  const source = pattern
    .split('')
    .map((char) => (char === '%' ? '.*' : char === '_' ? '.' : char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, caseInsensitive ? 'is' : 's').test(text);
}

function unquote(key: string): string {
  if ((key.startsWith('`') && key.endsWith('`')) || (key.startsWith('"') && key.endsWith('"'))) return key.slice(1, -1);
  return key;
}

function invalid(filter: string, why: string): MlflowError {
  return new MlflowError('INVALID_PARAMETER_VALUE', `Invalid filter '${filter.slice(0, 200)}': ${why}`);
}
