/**
 * MLflow's `order_by` (`metrics.loss DESC`, `attributes.start_time`, `` params.`lr` ASC ``) as
 * Larder sort keys, and its page tokens: base64 of `{"offset": n}`, as MLflow's own server
 * writes them, so a client may page with tokens from either.
 */
import type { FieldPath, SortKey } from '@larder/protocol';
import { seriesOfMetricKey } from '../tracking/metric-keys.js';
import { RUN_NAME_TAG } from '../tracking/run-records.js';
import { invalidFilter, parseIdentifier } from './filter-parser.js';
import { entityOf, RUN_ATTRIBUTES } from './run-filter.js';

const RUN_ATTRIBUTE_FIELDS: Record<string, FieldPath> = {
  run_id: ['_id'],
  run_name: ['name'],
  user_id: ['mlflow', 'userId'],
  status: ['status'],
  start_time: ['startTime'],
  end_time: ['endTime'],
  artifact_uri: ['mlflow', 'artifactUri'],
};

/** `"<key> [ASC|DESC]"` split into the key text and the direction. */
export function splitOrderBy(clause: string): { key: string; direction: 1 | -1 } {
  const trimmed = clause.trim();
  const match = /^(.*?)\s+(asc|desc)$/i.exec(trimmed);
  const key = (match ? match[1] : trimmed)?.trim() ?? '';
  if (key === '') throw invalidFilter(`Invalid order_by clause '${clause}'. Could not be parsed.`);
  return { key, direction: match && (match[2] as string).toLowerCase() === 'desc' ? -1 : 1 };
}

/** Sort keys of a runs search; MLflow's default is the newest start first. */
export function runSortKeys(orderBy: readonly string[]): SortKey[] {
  const keys = orderBy.map((clause): SortKey => {
    const { key: text, direction } = splitOrderBy(clause);
    const { entity, key } = entityOf(parseIdentifier(text));
    switch (entity) {
      case 'metric': {
        const { type, name } = seriesOfMetricKey(key);
        return { path: ['metrics', type, name, 'last'], direction };
      }
      case 'param':
        return { path: ['hparams', key], direction };
      case 'tag':
        return { path: key === RUN_NAME_TAG ? ['name'] : ['tags', key], direction };
      case 'attribute': {
        const path = RUN_ATTRIBUTE_FIELDS[key];
        if (!path) {
          throw invalidFilter(`Invalid attribute key '${key}' specified. Valid keys are ${RUN_ATTRIBUTES.join(', ')}`);
        }
        return { path, direction };
      }
      default:
        throw invalidFilter(`Runs cannot be ordered by ${entity} '${key}'`);
    }
  });
  return keys.length > 0 ? keys : [{ path: ['startTime'], direction: -1 }];
}

export function offsetOfPageToken(token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  let offset: unknown;
  try {
    offset = (JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown }).offset;
  } catch (error) {
    throw invalidFilter(`Invalid page token '${token.slice(0, 40)}': ${(error as Error).message}`);
  }
  const number = typeof offset === 'string' ? Number(offset) : offset;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 0) {
    throw invalidFilter(`Invalid page token '${token.slice(0, 40)}'`);
  }
  return number;
}

export function pageTokenOf(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64');
}
