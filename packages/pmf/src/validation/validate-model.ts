/** The public entry point for validating a PMF directory, e.g. from a command line. */
import { inspectModel } from './inspect-model.js';
import type { Offence } from './offence.js';

export interface ValidateOptions {
  /**
   * Check the MD5 of the configuration, every checkpoint and the initialisation file, as
   * plums' `Model.load(strict=True)` does. Default `true`; `false` checks structure only.
   */
  strict?: boolean;
}

/**
 * Validates the PMF model at `root` and returns every offence; an empty list means valid.
 * Malformed trees and YAML become offences; only unexpected I/O failures throw.
 *
 * @example
 * const offences = await validateModel('models/resnet'); // MD5s checked
 * const quick = await validateModel('models/resnet', { strict: false }); // structure only
 * for (const offence of offences) console.log(formatOffence(offence));
 */
export async function validateModel(root: string, options: ValidateOptions = {}): Promise<Offence[]> {
  const { offences } = await inspectModel(root, { strict: options.strict ?? true, checkpoints: true });
  return offences;
}
