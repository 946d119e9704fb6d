/**
 * PEP 440 versions (the PyPA scheme): parsing with normalisation (`1.0-ALPHA.1` → `1.0a1`)
 * and the total order the PEP defines, including epochs, pre, post and dev releases and
 * local version labels.
 */
import { PmfError } from '../errors/pmf-error.js';
import { compareBigInt, type ProducerVersion, type VersionFormat } from './producer-version.js';

type PreLabel = 'a' | 'b' | 'rc';
type LocalSegment = bigint | string;

const PRE_SPELLINGS: Record<string, PreLabel> = {
  a: 'a',
  alpha: 'a',
  b: 'b',
  beta: 'b',
  c: 'rc',
  rc: 'rc',
  pre: 'rc',
  preview: 'rc',
};
const PRE_RANK: Record<PreLabel, number> = { a: 0, b: 1, rc: 2 };

// Written from the grammar in PEP 440 ("Appendix B"); case-insensitive, every separator optional.
const PEP440 = new RegExp(
  [
    '^v?',
    '(?:(?<epoch>[0-9]+)!)?',
    '(?<release>[0-9]+(?:\\.[0-9]+)*)',
    '(?:[-_.]?(?<preLabel>alpha|beta|preview|pre|a|b|c|rc)[-_.]?(?<preNumber>[0-9]+)?)?',
    '(?:-(?<implicitPost>[0-9]+)|[-_.]?(?:post|rev|r)[-_.]?(?<postNumber>[0-9]+)?(?<postMark>))?',
    '(?:[-_.]?(?<devMark>dev)[-_.]?(?<devNumber>[0-9]+)?)?',
    '(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?$',
  ].join(''),
  'i',
);

/**
 * A PEP 440 version.
 *
 * @example
 * const version = Pep440Version.parse('1.0-RC.2');
 * version.value; // '1.0rc2'
 * version.compare(Pep440Version.parse('1.0')) < 0; // true
 */
export class Pep440Version implements ProducerVersion {
  readonly format = 'py_pa';
  readonly epoch: bigint;
  readonly release: readonly bigint[];
  readonly pre: readonly [PreLabel, bigint] | null;
  readonly post: bigint | null;
  readonly dev: bigint | null;
  readonly local: readonly LocalSegment[] | null;

  private constructor(parts: Omit<Pep440Version, 'format' | 'value' | 'compare' | 'equals' | 'toString'>) {
    this.epoch = parts.epoch;
    this.release = parts.release;
    this.pre = parts.pre;
    this.post = parts.post;
    this.dev = parts.dev;
    this.local = parts.local;
  }

  /** Parses a PEP 440 version; throws `PmfError('invalid-version')` when it is not one. */
  static parse(text: string): Pep440Version {
    const groups = PEP440.exec(text.trim())?.groups;
    if (!groups?.release) throw new PmfError('invalid-version', `"${text}" is not a PEP 440 version`);
    const preLabel = groups.preLabel ? PRE_SPELLINGS[groups.preLabel.toLowerCase()] : undefined;
    const hasPost = groups.implicitPost !== undefined || groups.postMark !== undefined;
    return new Pep440Version({
      epoch: BigInt(groups.epoch ?? 0),
      release: groups.release.split('.').map((part) => BigInt(part)),
      pre: preLabel ? [preLabel, BigInt(groups.preNumber ?? 0)] : null,
      post: hasPost ? BigInt(groups.implicitPost ?? groups.postNumber ?? 0) : null,
      dev: groups.devMark ? BigInt(groups.devNumber ?? 0) : null,
      local: groups.local
        ? groups.local
            .toLowerCase()
            .split(/[-_.]/)
            .map((segment) => (/^[0-9]+$/.test(segment) ? BigInt(segment) : segment))
        : null,
    });
  }

  /** The normalised form, e.g. `1!2.0rc1.post0.dev3+ubuntu.1`. */
  get value(): string {
    let text = this.epoch === 0n ? '' : `${this.epoch}!`;
    text += this.release.join('.');
    if (this.pre) text += `${this.pre[0]}${this.pre[1]}`;
    if (this.post !== null) text += `.post${this.post}`;
    if (this.dev !== null) text += `.dev${this.dev}`;
    if (this.local) text += `+${this.local.join('.')}`;
    return text;
  }

  toString(): string {
    return this.value;
  }

  compare(other: ProducerVersion): number {
    if (!(other instanceof Pep440Version)) {
      throw new PmfError('invalid-version', `cannot compare a py_pa version with a ${other.format} version`);
    }
    return (
      compareBigInt(this.epoch, other.epoch) ||
      compareRelease(this.release, other.release) ||
      compareKeys(preKey(this), preKey(other)) ||
      compareKeys(optionalKey(this.post, -1), optionalKey(other.post, -1)) ||
      compareKeys(optionalKey(this.dev, 1), optionalKey(other.dev, 1)) ||
      compareLocal(this.local, other.local)
    );
  }

  equals(other: ProducerVersion): boolean {
    return other instanceof Pep440Version && this.compare(other) === 0;
  }
}

/** The `py_pa` format, as registered by default. */
export const pep440Format: VersionFormat = { name: 'py_pa', parse: (value) => Pep440Version.parse(value) };

/** A sort key: a rank that places "absent" below (-1) or above (1) every present value. */
type Key = readonly [rank: number, ...values: bigint[]];

function optionalKey(value: bigint | null, absent: -1 | 1): Key {
  return value === null ? [absent] : [0, value];
}

function preKey(version: Pep440Version): Key {
  // A bare dev release (1.0.dev1) sorts before every pre-release of the same release.
  if (version.pre === null && version.post === null && version.dev !== null) return [-1];
  if (version.pre === null) return [1];
  return [0, BigInt(PRE_RANK[version.pre[0]]), version.pre[1]];
}

function compareKeys(left: Key, right: Key): number {
  for (let index = 0; index < Math.max(left.length, right.length); index += 1) {
    const order = compareBigInt(BigInt(left[index] ?? 0), BigInt(right[index] ?? 0));
    if (order !== 0) return order;
  }
  return 0;
}

function compareRelease(left: readonly bigint[], right: readonly bigint[]): number {
  // Trailing zeros do not count: 1.0 == 1.0.0.
  const length = Math.max(left.length, right.length);
  for (let index = 0; index < length; index += 1) {
    const order = compareBigInt(left[index] ?? 0n, right[index] ?? 0n);
    if (order !== 0) return order;
  }
  return 0;
}

function compareLocal(left: readonly LocalSegment[] | null, right: readonly LocalSegment[] | null): number {
  if (left === null || right === null) return left === right ? 0 : left === null ? -1 : 1;
  for (let index = 0; index < Math.min(left.length, right.length); index += 1) {
    const order = compareLocalSegment(left[index] as LocalSegment, right[index] as LocalSegment);
    if (order !== 0) return order;
  }
  return Math.sign(left.length - right.length);
}

function compareLocalSegment(left: LocalSegment, right: LocalSegment): number {
  // Numeric segments sort after alphanumeric ones.
  if (typeof left === 'bigint' && typeof right === 'bigint') return compareBigInt(left, right);
  if (typeof left === 'bigint') return 1;
  if (typeof right === 'bigint') return -1;
  return left < right ? -1 : left > right ? 1 : 0;
}
