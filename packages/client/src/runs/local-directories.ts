/**
 * Where runs and artifacts live on disk, and how their directories are named: each one is
 * `<parent>/<alternative name>`, with the alternative name
 * `<name>_<YYMMDD>_<HHMMSS>_<6 random [a-z0-9]>` (local time), e.g. `mnist_250102_093015_k3x9q2`.
 * See LOCAL-FORMAT.md.
 */
import { getRandomValues } from 'node:crypto';
import { LarderError } from '@larder/protocol';

export const DEFAULT_RUN_PARENT_DIR = '.larder/runs';
export const DEFAULT_ARTIFACT_PARENT_DIR = '.larder/artifacts';

/** `$LARDER_RUN_PARENT_DIR`, else `.larder/runs` (relative to the working directory). */
export function runParentDir(env: NodeJS.ProcessEnv = process.env): string {
  return nonEmpty(env.LARDER_RUN_PARENT_DIR) ?? DEFAULT_RUN_PARENT_DIR;
}

/** `$LARDER_ARTIFACT_PARENT_DIR`, else `.larder/artifacts`. */
export function artifactParentDir(env: NodeJS.ProcessEnv = process.env): string {
  return nonEmpty(env.LARDER_ARTIFACT_PARENT_DIR) ?? DEFAULT_ARTIFACT_PARENT_DIR;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A fresh alternative name for `name` created at `when`.
 *
 * @example
 * alternativeName('mnist', new Date(2025, 0, 2, 9, 30, 15)); // 'mnist_250102_093015_k3x9q2'
 */
export function alternativeName(name: string, when: Date = new Date()): string {
  const two = (value: number) => String(value).padStart(2, '0');
  const date = `${two(when.getFullYear() % 100)}${two(when.getMonth() + 1)}${two(when.getDate())}`;
  const time = `${two(when.getHours())}${two(when.getMinutes())}${two(when.getSeconds())}`;
  const random = Array.from(getRandomValues(new Uint8Array(6)), (byte) => ALPHABET[byte % ALPHABET.length]).join('');
  return `${name}_${date}_${time}_${random}`;
}

/** Matches an alternative name; group 1 is the name. */
export const ALTERNATIVE_NAME = /^(.+)_\d{6}_\d{6}_[a-z0-9]{6}$/;

/** Throws a BadRequest unless `name` can name a run or artifact (it becomes a directory name). */
export function assertResourceName(kind: 'run' | 'artifact', name: unknown): asserts name is string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name)) {
    throw new LarderError(
      'BadRequest',
      `Invalid ${kind} name ${JSON.stringify(name)}: use 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
