import { afterEach, describe, expect, it } from 'vitest';
import { PmfError } from '../errors/pmf-error.js';
import type { ProducerVersion } from './producer-version.js';
import { parseVersion, registerVersionFormat, unregisterVersionFormat, versionFormatNames } from './version-formats.js';

/** A toy format: versions are positive integers. */
function integerVersion(value: string): ProducerVersion {
  if (!/^[1-9][0-9]*$/.test(value)) throw new PmfError('invalid-version', `${value} is not an integer version`);
  return {
    format: 'integer',
    value,
    compare: (other) => Number(value) - Number(other.value),
    equals: (other) => other.format === 'integer' && other.value === value,
  };
}

afterEach(() => {
  unregisterVersionFormat('integer');
});

describe('version formats', () => {
  it('knows py_pa and semver', () => {
    expect(versionFormatNames()).toEqual(expect.arrayContaining(['py_pa', 'semver']));
    expect(parseVersion('py_pa', '2.0.1-dev0').value).toBe('2.0.1.dev0');
    expect(parseVersion('semver', '2.0.1-dev0').value).toBe('2.0.1-dev0');
  });

  it('refuses an unknown format, naming the registered ones', () => {
    expect(() => parseVersion('calver', '2024.1')).toThrow(/Unknown version format "calver".*py_pa/);
  });

  it('accepts a plugged-in format and forgets it when unregistered', () => {
    registerVersionFormat({ name: 'integer', parse: integerVersion });
    expect(parseVersion('integer', '12').compare(parseVersion('integer', '3'))).toBeGreaterThan(0);
    expect(unregisterVersionFormat('integer')).toBe(true);
    expect(() => parseVersion('integer', '12')).toThrow(PmfError);
  });

  it('requires snake_case format names', () => {
    expect(() => registerVersionFormat({ name: 'Integer-Format', parse: integerVersion })).toThrow(/snake_case/);
  });
});
