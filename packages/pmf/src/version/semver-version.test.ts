import { describe, expect, it } from 'vitest';
import { PmfError } from '../errors/pmf-error.js';
import { SemverVersion } from './semver-version.js';

describe('SemverVersion', () => {
  it('orders versions by SemVer 2.0.0 precedence', () => {
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.0.1',
      '1.2.0',
      '2.0.0',
      '10.0.0',
    ];
    const sorted = [...ordered].reverse().sort((a, b) => SemverVersion.parse(a).compare(SemverVersion.parse(b)));
    expect(sorted).toEqual(ordered);
  });

  it('ignores build metadata for precedence but keeps it in the value', () => {
    const built = SemverVersion.parse('1.0.0+build.5');
    expect(built.equals(SemverVersion.parse('1.0.0'))).toBe(true);
    expect(built.value).toBe('1.0.0+build.5');
  });

  it.each(['1.0', '01.0.0', '1.0.0-', '1.0.0-01', 'v1.0.0', '1.0.0+'])('refuses %j', (input) => {
    expect(() => SemverVersion.parse(input)).toThrow(PmfError);
  });
});
