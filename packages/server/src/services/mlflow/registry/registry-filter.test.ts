import { describe, expect, it } from 'vitest';
import { MlflowError } from '../mlflow-errors.js';
import { parseRegistryFilter } from './registry-filter.js';

const model = (name: string, tags: Record<string, string> = {}, version = 1) => ({
  attributes: { name, version_number: version, run_id: null },
  tags,
});

describe("the registry's filter strings", () => {
  it('matches names with =, LIKE and ILIKE, tags with dotted keys in backticks, joined by AND', () => {
    const match = parseRegistryFilter("name LIKE 'fraud-%' AND tags.`team.owner` = 'risk'", ['name']);
    expect(match(model('fraud-v2', { 'team.owner': 'risk' }))).toBe(true);
    expect(match(model('fraud-v2', { 'team.owner': 'ops' }))).toBe(false);
    expect(match(model('Fraud-v2', { 'team.owner': 'risk' }))).toBe(false);
    expect(parseRegistryFilter("name ILIKE 'FRAUD_v2'", ['name'])(model('fraud-v2'))).toBe(true);
    expect(parseRegistryFilter('name = "it\'s"', ['name'])(model("it's"))).toBe(true);
  });

  it('compares numbers as numbers and reads IN lists', () => {
    const newer = parseRegistryFilter('version_number > 9', ['version_number']);
    expect(newer(model('m', {}, 10))).toBe(true);
    expect(newer(model('m', {}, 2))).toBe(false);
    const runs = parseRegistryFilter("run_id IN ('a', 'b')", ['run_id']);
    expect(runs({ attributes: { run_id: 'b' }, tags: {} })).toBe(true);
    expect(runs({ attributes: { run_id: null }, tags: {} })).toBe(false);
    expect(parseRegistryFilter("tags.x != 'y'", [])(model('m'))).toBe(true);
  });

  it('matches everything without a filter, and refuses what it cannot read with INVALID_PARAMETER_VALUE', () => {
    expect(parseRegistryFilter('', ['name'])(model('any'))).toBe(true);
    for (const bad of ["owner = 'x'", "name ~ 'x'", 'name = ', "name = 'x' OR name = 'y'", 'name IN x']) {
      expect(() => parseRegistryFilter(bad, ['name']), bad).toThrow(MlflowError);
    }
  });
});
