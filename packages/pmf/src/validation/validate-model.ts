/** The public entry point for validating a PMF directory, e.g. from a command line. */
import { inspectModel } from './inspect-model.js';
import type { Offence } from './offence.js';

export interface ValidateOptions {
  /** Also check the MD5 of the configuration, every checkpoint and the initialisation file. Default `false`. */
  strict?: boolean;
}

/**
 * Validates the PMF model at `root` and returns every offence; an empty list means valid.
 * Malformed trees and YAML become offences; only unexpected I/O failures throw.
 *
 * @example
 * const offences = await validateModel('models/resnet', { strict: true });
 * for (const offence of offences) console.log(formatOffence(offence));
 */
export async function validateModel(root: string, options: ValidateOptions = {}): Promise<Offence[]> {
  const { offences } = await inspectModel(root, { strict: options.strict ?? false, checkpoints: true });
  return offences;
}
