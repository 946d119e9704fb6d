/** Validation errors: each one carries every offence found, not only the first. */
import { formatOffence, type Offence } from '../validation/offence.js';
import { PmfError, type PmfErrorCode } from './pmf-error.js';

/** Base of validation errors. `offences` lists everything that is wrong. */
export class PmfValidationError extends PmfError {
  override name = 'PmfValidationError';
  readonly offences: readonly Offence[];

  constructor(code: PmfErrorCode, summary: string, offences: readonly Offence[], verbose = false) {
    const lines = offences.map((offence) => `  - ${formatOffence(offence, verbose)}`);
    super(code, [summary, ...lines].join('\n'));
    this.offences = offences;
  }
}

/** The directory does not have the PMF shape, or its files do not match the metadata. */
export class PmfTreeValidationError extends PmfValidationError {
  override name = 'PmfTreeValidationError';

  constructor(root: string, offences: readonly Offence[], verbose = false) {
    super('invalid-tree', `${root} is not a valid PMF model (${count(offences)}):`, offences, verbose);
  }
}

/** A metadata file is malformed or breaks the PMF rules. `offences` may also hold tree offences. */
export class PmfMetadataValidationError extends PmfValidationError {
  override name = 'PmfMetadataValidationError';

  constructor(where: string, offences: readonly Offence[], verbose = false) {
    super('invalid-metadata', `${where} holds invalid PMF metadata (${count(offences)}):`, offences, verbose);
  }
}

/**
 * The error to throw for a list of offences: a metadata error when any metadata offence is
 * among them, a tree error otherwise.
 */
export function validationErrorFor(root: string, offences: readonly Offence[], verbose = false): PmfValidationError {
  if (offences.some((offence) => offence.kind === 'metadata')) {
    return new PmfMetadataValidationError(root, offences, verbose);
  }
  return new PmfTreeValidationError(root, offences, verbose);
}

function count(offences: readonly Offence[]): string {
  return offences.length === 1 ? '1 offence' : `${offences.length} offences`;
}
