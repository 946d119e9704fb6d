/** Semantic Versioning 2.0.0 versions and their precedence. Build metadata does not affect precedence. */
import { PmfError } from '../errors/pmf-error.js';
import { compareBigInt, type ProducerVersion, type VersionFormat } from './producer-version.js';

const NUMBER = '(0|[1-9][0-9]*)';
const PRERELEASE_ID = '(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)';
const SEMVER = new RegExp(
  `^${NUMBER}\\.${NUMBER}\\.${NUMBER}` +
    `(?:-(${PRERELEASE_ID}(?:\\.${PRERELEASE_ID})*))?` +
    '(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$',
);

/**
 * A SemVer 2.0.0 version. Not known to the plums reference: models meant for plums should
 * use `py_pa`.
 *
 * @example
 * SemverVersion.parse('1.0.0-alpha.1').compare(SemverVersion.parse('1.0.0')) < 0; // true
 */
export class SemverVersion implements ProducerVersion {
  readonly format = 'semver';

  private constructor(
    readonly major: bigint,
    readonly minor: bigint,
    readonly patch: bigint,
    readonly prerelease: readonly string[],
    readonly build: readonly string[],
  ) {}

  /** Parses a SemVer version; throws `PmfError('invalid-version')` when it is not one. */
  static parse(text: string): SemverVersion {
    const match = SEMVER.exec(text);
    if (!match) throw new PmfError('invalid-version', `"${text}" is not a SemVer 2.0.0 version`);
    const [, major, minor, patch, prerelease, build] = match;
    return new SemverVersion(
      BigInt(major as string),
      BigInt(minor as string),
      BigInt(patch as string),
      prerelease ? prerelease.split('.') : [],
      build ? build.split('.') : [],
    );
  }

  get value(): string {
    const prerelease = this.prerelease.length > 0 ? `-${this.prerelease.join('.')}` : '';
    const build = this.build.length > 0 ? `+${this.build.join('.')}` : '';
    return `${this.major}.${this.minor}.${this.patch}${prerelease}${build}`;
  }

  toString(): string {
    return this.value;
  }

  compare(other: ProducerVersion): number {
    if (!(other instanceof SemverVersion)) {
      throw new PmfError('invalid-version', `cannot compare a semver version with a ${other.format} version`);
    }
    return (
      compareBigInt(this.major, other.major) ||
      compareBigInt(this.minor, other.minor) ||
      compareBigInt(this.patch, other.patch) ||
      comparePrerelease(this.prerelease, other.prerelease)
    );
  }

  equals(other: ProducerVersion): boolean {
    return other instanceof SemverVersion && this.compare(other) === 0;
  }
}

/** The `semver` format, as registered by default. */
export const semverFormat: VersionFormat = { name: 'semver', parse: (value) => SemverVersion.parse(value) };

function comparePrerelease(left: readonly string[], right: readonly string[]): number {
  // A release sorts after all of its pre-releases.
  if (left.length === 0 || right.length === 0) return Math.sign(right.length - left.length);
  for (let index = 0; index < Math.min(left.length, right.length); index += 1) {
    const order = compareIdentifier(left[index] as string, right[index] as string);
    if (order !== 0) return order;
  }
  return Math.sign(left.length - right.length);
}

function compareIdentifier(left: string, right: string): number {
  const leftNumeric = /^[0-9]+$/.test(left);
  const rightNumeric = /^[0-9]+$/.test(right);
  if (leftNumeric && rightNumeric) return compareBigInt(BigInt(left), BigInt(right));
  if (leftNumeric !== rightNumeric) return leftNumeric ? -1 : 1;
  return left < right ? -1 : left > right ? 1 : 0;
}
