/**
 * Picsellia's limits on experiments (a name of at most 60 characters, a description of at
 * most 1000) and the names of file assets and data logs. Those names become dotted keys of
 * a patch (`files.<name>`), so they cannot hold dots, and they stay clear of anything a
 * path or a query would read specially.
 */
import { LarderError } from '@larder/protocol';

export const MAX_EXPERIMENT_NAME = 60;
export const MAX_EXPERIMENT_DESCRIPTION = 1000;
export const MAX_ASSET_NAME = 128;

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const BAD_EXPERIMENT_NAME = /[\u0000-\u001f\u007f/\\]/;
const ASSET_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

export function assertExperimentName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new LarderError('BadRequest', 'An experiment needs a name (1 to 60 characters)');
  }
  if (name.length > MAX_EXPERIMENT_NAME) {
    throw new LarderError(
      'BadRequest',
      `The experiment name "${name.slice(0, 20)}…" has ${name.length} characters; use at most ${MAX_EXPERIMENT_NAME}`,
    );
  }
  if (BAD_EXPERIMENT_NAME.test(name) || name === '.' || name === '..') {
    throw new LarderError(
      'BadRequest',
      `"${name}" cannot name an experiment: leave out slashes, backslashes and control characters`,
    );
  }
}

export function assertExperimentDescription(description: unknown): asserts description is string {
  if (typeof description !== 'string') throw new LarderError('BadRequest', 'An experiment description is a string');
  if (description.length > MAX_EXPERIMENT_DESCRIPTION) {
    throw new LarderError(
      'BadRequest',
      `The description has ${description.length} characters; shorten it to at most ${MAX_EXPERIMENT_DESCRIPTION}`,
    );
  }
}

/** `what` is `file` or `data log`. */
export function assertAssetName(name: unknown, what: string): asserts name is string {
  if (typeof name !== 'string' || name.length > MAX_ASSET_NAME || !ASSET_NAME.test(name)) {
    throw new LarderError(
      'BadRequest',
      `${JSON.stringify(String(name).slice(0, 40))} cannot name a ${what}: use 1 to ${MAX_ASSET_NAME} letters, digits, "-" or "_" (like "model-latest")`,
    );
  }
}
