/**
 * The version of the package that produced a model, in a named format. Formats are
 * pluggable (see `version-formats.ts`); PEP 440 is registered as `py_pa`, the only format
 * the plums reference knows, and SemVer as `semver`.
 */

/** A parsed version. `value` is its canonical string, the one written to metadata.yaml. */
export interface ProducerVersion {
  /** The registered format name, e.g. `py_pa`. */
  readonly format: string;
  /** The canonical string form. */
  readonly value: string;
  /** Negative, zero or positive as this version sorts before, with or after `other`. Throws across formats. */
  compare(other: ProducerVersion): number;
  equals(other: ProducerVersion): boolean;
}

/** A version format: a snake_case name and a parser that throws `PmfError('invalid-version')`. */
export interface VersionFormat {
  readonly name: string;
  parse(value: string): ProducerVersion;
}

/** Compares two bigints as -1, 0 or 1. */
export function compareBigInt(left: bigint, right: bigint): number {
  return left < right ? -1 : left > right ? 1 : 0;
}
