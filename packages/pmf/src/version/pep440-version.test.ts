import { describe, expect, it } from 'vitest';
import { PmfError } from '../errors/pmf-error.js';
import { Pep440Version } from './pep440-version.js';
import { SemverVersion } from './semver-version.js';

describe('Pep440Version', () => {
  it.each([
    ['1.0', '1.0'],
    ['v1.0', '1.0'],
    ['  1.0  ', '1.0'],
    ['0!1.0', '1.0'],
    ['2!1.0', '2!1.0'],
    ['1.0-ALPHA.1', '1.0a1'],
    ['1.0beta', '1.0b0'],
    ['1.0c2', '1.0rc2'],
    ['1.0-pre3', '1.0rc3'],
    ['1.0preview4', '1.0rc4'],
    ['1.0-1', '1.0.post1'],
    ['1.0rev', '1.0.post0'],
    ['1.0.r5', '1.0.post5'],
    ['1.0-dev', '1.0.dev0'],
    ['1.0.0.dev007', '1.0.0.dev7'],
    ['01.002.0003', '1.2.3'],
    ['1.0+Ubuntu-1', '1.0+ubuntu.1'],
    ['1.0+local.007', '1.0+local.7'],
    ['1.0rc1.post2.dev3+x', '1.0rc1.post2.dev3+x'],
  ])('normalises %j to %j', (input, normalised) => {
    expect(Pep440Version.parse(input).value).toBe(normalised);
  });

  it.each(['', '1.0.', 'one', '1.0+', '1.0+a..b', '1.0-alpha-beta', '1.0_', '^1.0', '1.0 2'])('refuses %j', (input) => {
    expect(() => Pep440Version.parse(input)).toThrow(PmfError);
  });

  it('orders versions as PEP 440 does', () => {
    const ordered = [
      '1.0.dev456',
      '1.0a1',
      '1.0a2.dev456',
      '1.0a12.dev456',
      '1.0a12',
      '1.0b1.dev456',
      '1.0b2',
      '1.0b2.post345.dev456',
      '1.0b2.post345',
      '1.0rc1.dev456',
      '1.0rc1',
      '1.0',
      '1.0+abc.5',
      '1.0+abc.7',
      '1.0+5',
      '1.0.post456.dev34',
      '1.0.post456',
      '1.0.15',
      '1.1.dev1',
      '2!0.1',
    ];
    const shuffled = [...ordered].reverse();
    shuffled.sort((a, b) => Pep440Version.parse(a).compare(Pep440Version.parse(b)));
    expect(shuffled).toEqual(ordered);
  });

  it('ignores trailing zeros and spelling when comparing', () => {
    expect(Pep440Version.parse('1.0').equals(Pep440Version.parse('1.0.0.0'))).toBe(true);
    expect(Pep440Version.parse('1.0alpha1').equals(Pep440Version.parse('1.0a1'))).toBe(true);
    expect(Pep440Version.parse('1.0').equals(Pep440Version.parse('1.0+local'))).toBe(false);
  });

  it('compares release numbers beyond the safe integer range', () => {
    const small = Pep440Version.parse('1.9007199254740993');
    const large = Pep440Version.parse('1.9007199254740994');
    expect(small.compare(large)).toBeLessThan(0);
  });

  it('refuses to compare with another format', () => {
    expect(() => Pep440Version.parse('1.0').compare(SemverVersion.parse('1.0.0'))).toThrow(/py_pa.*semver/);
  });
});
