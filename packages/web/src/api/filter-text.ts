/**
 * The filter box's language, turned into the server's query language. Clauses are joined
 * with `and` (or `&`); each is `<field> <op> <value>` with op one of `= != < <= > >=`,
 * `<field> in a|b|c`, or `has <field>`. Fields are dot paths (`hparams.lr`,
 * `metrics.val.acc.last`). Text written in the query-string form itself
 * (`hparams.lr[$gte]=0.01&status=Running`) passes through unchanged.
 *
 * @example
 * filterQuery('status = Running and hparams.lr >= 0.01')
 * // { ok: true, query: 'status=Running&hparams.lr[$gte]=0.01' }
 */
import { encodeQuery, type Query, type QueryValue } from './query-string.js';

export type FilterResult = { ok: true; query: string } | { ok: false; message: string };

const OPERATORS: Record<string, string | undefined> = {
  '=': undefined,
  '!=': '$ne',
  '<': '$lt',
  '<=': '$lte',
  '>': '$gt',
  '>=': '$gte',
};
const CLAUSE = /^([A-Za-z0-9_.$-]+)\s*(!=|<=|>=|=|<|>)\s*(.+)$/;
const IN_CLAUSE = /^([A-Za-z0-9_.$-]+)\s+in\s+(.+)$/i;
const HAS_CLAUSE = /^has\s+([A-Za-z0-9_.$-]+)$/i;

function unquote(value: string): string {
  const trimmed = value.trim();
  const quoted = /^"(.*)"$/.exec(trimmed) ?? /^'(.*)'$/.exec(trimmed);
  return quoted ? (quoted[1] ?? '') : trimmed;
}

function addCondition(query: Query, field: string, condition: QueryValue): void {
  const existing = query[field];
  if (existing === undefined) {
    query[field] = condition;
  } else if (
    typeof existing === 'object' &&
    existing !== null &&
    !Array.isArray(existing) &&
    typeof condition === 'object'
  ) {
    query[field] = { ...existing, ...(condition as Record<string, QueryValue>) };
  } else {
    const all = (query.$and as QueryValue[] | undefined) ?? [];
    query.$and = [...all, { [field]: condition }];
  }
}

export function filterQuery(text: string): FilterResult {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: true, query: '' };
  if (trimmed.startsWith('?') || /\[\$\w+\]/.test(trimmed)) {
    return { ok: true, query: trimmed.replace(/^\?/, '') };
  }
  const query: Query = {};
  for (const clause of trimmed.split(/\s+and\s+|\s*&\s*/i)) {
    if (clause === '') continue;
    const has = HAS_CLAUSE.exec(clause);
    if (has) {
      addCondition(query, has[1] as string, { $exists: true });
      continue;
    }
    const within = IN_CLAUSE.exec(clause);
    if (within) {
      addCondition(query, within[1] as string, { $in: (within[2] as string).split('|').map(unquote) });
      continue;
    }
    const match = CLAUSE.exec(clause);
    if (!match) {
      return {
        ok: false,
        message: `"${clause}" is not a condition: write field op value (op is = != < <= > >=), field in a|b, or has field`,
      };
    }
    const [, field = '', op = '=', value = ''] = match;
    const operator = OPERATORS[op];
    addCondition(query, field, operator ? { [operator]: unquote(value) } : unquote(value));
  }
  return { ok: true, query: encodeQuery(query) };
}
