import { describe, expect, it } from 'vitest';
import { MlflowError } from '../mlflow-errors.js';
import { parseFilterString, parseIdentifier } from './filter-parser.js';

const compare = (entity: string, key: string, comparator: string, value: unknown) => ({
  kind: 'compare',
  identifier: { entity, key },
  comparator,
  value,
});

describe("MLflow's filter grammar", () => {
  it('reads AND-ed comparisons of every entity', () => {
    expect(parseFilterString('metrics.loss < 0.5 AND params.lr = \'0.1\' and tags.team != "vision"')).toEqual({
      kind: 'and',
      clauses: [
        compare('metrics', 'loss', '<', { kind: 'number', text: '0.5', number: 0.5 }),
        compare('params', 'lr', '=', { kind: 'string', text: '0.1' }),
        compare('tags', 'team', '!=', { kind: 'string', text: 'vision' }),
      ],
    });
  });

  it('takes a bare key as an attribute, dotted keys whole, and quoted or backticked keys', () => {
    expect(parseFilterString("status = 'FINISHED'")).toEqual(
      compare('attributes', 'status', '=', { kind: 'string', text: 'FINISHED' }),
    );
    expect(parseFilterString("tags.mlflow.runName = 'a'")).toMatchObject({ identifier: { key: 'mlflow.runName' } });
    expect(parseFilterString('metrics."val loss" >= -1e3')).toMatchObject({
      identifier: { entity: 'metrics', key: 'val loss' },
      value: { number: -1000 },
    });
    expect(parseFilterString("`params`.`a/b` LIKE 'x%'")).toMatchObject({
      identifier: { entity: 'params', key: 'a/b' },
      comparator: 'LIKE',
    });
    expect(parseFilterString("attributes.`Run name` ilike '%A%'")).toMatchObject({
      identifier: { entity: 'attributes', key: 'Run name' },
      comparator: 'ILIKE',
    });
  });

  it('reads IN and NOT IN lists, and doubled quotes inside strings', () => {
    expect(parseFilterString("attributes.run_id IN ('a', 'b')")).toMatchObject({
      kind: 'in',
      negated: false,
      values: [{ text: 'a' }, { text: 'b' }],
    });
    expect(parseFilterString("datasets.name NOT IN ('x')")).toMatchObject({ kind: 'in', negated: true });
    expect(parseFilterString("tags.note = 'it''s'")).toMatchObject({ value: { text: "it's" } });
  });

  it('goes beyond MLflow with OR, parentheses and IS [NOT] NULL, AND binding tighter than OR', () => {
    expect(parseFilterString("params.a = '1' OR params.b = '2' AND metrics.m > 1")).toMatchObject({
      kind: 'or',
      clauses: [{ kind: 'compare' }, { kind: 'and', clauses: [{ kind: 'compare' }, { kind: 'compare' }] }],
    });
    expect(parseFilterString("(params.a = '1' OR params.b = '2') AND metrics.m > 1")).toMatchObject({
      kind: 'and',
      clauses: [{ kind: 'or' }, { kind: 'compare' }],
    });
    expect(parseFilterString('tags.x IS NOT NULL')).toMatchObject({ kind: 'null', negated: true });
  });

  it('answers nothing for an empty filter', () => {
    expect(parseFilterString(undefined)).toBeUndefined();
    expect(parseFilterString('   ')).toBeUndefined();
  });

  it('refuses malformed filters with INVALID_PARAMETER_VALUE and a sentence', () => {
    for (const bad of [
      "params.a = 'x",
      'params.a = ',
      "params.a 'x'",
      "(params.a = 'x'",
      "params.a = 'x')",
      "params.a = 'x' AND",
      'metrics.loss < abc',
      'params.a = `x`',
      "params.a IN 'x'",
      "params.a = 'x' ; drop",
      "tags.a IS 'x'",
      'metrics. = 1',
    ]) {
      let caught: unknown;
      try {
        parseFilterString(bad);
      } catch (error) {
        caught = error;
      }
      expect(caught, bad).toBeInstanceOf(MlflowError);
      expect((caught as MlflowError).errorCode, bad).toBe('INVALID_PARAMETER_VALUE');
      expect((caught as MlflowError).message.length, bad).toBeGreaterThan(10);
    }
  });

  it('reads one identifier for order_by', () => {
    expect(parseIdentifier('metrics.`val loss`')).toEqual({ entity: 'metrics', key: 'val loss' });
    expect(parseIdentifier('start_time')).toEqual({ entity: 'attributes', key: 'start_time' });
    expect(() => parseIdentifier('metrics.loss extra')).toThrow(MlflowError);
  });
});
