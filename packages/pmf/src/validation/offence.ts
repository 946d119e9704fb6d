/** One reason a PMF tree is invalid. Validation collects all of them rather than stopping at the first. */

/** Where the offence was found: the file tree, or the content of a metadata file. */
export type OffenceKind = 'tree' | 'metadata';

export interface Offence {
  readonly kind: OffenceKind;
  /** The file or directory concerned, relative to the validated root (`metadata.yaml`, `data/checkpoints`). */
  readonly file: string;
  /** For metadata offences, the dotted field inside the file (`model.training.start_epoch`). */
  readonly field?: string;
  /** What is wrong, as a sentence fragment a user can act on. */
  readonly message: string;
  /** A description of the offending value, shown in verbose reports. */
  readonly found?: string;
}

/**
 * One line describing an offence.
 *
 * @example
 * formatOffence({ kind: 'metadata', file: 'metadata.yaml', field: 'model.id', message: 'must be a string' });
 * // 'metadata.yaml: model.id: must be a string'
 */
export function formatOffence(offence: Offence, verbose = false): string {
  const where = offence.field ? `${offence.file}: ${offence.field}` : offence.file;
  const found = verbose && offence.found !== undefined ? ` (found ${offence.found})` : '';
  return `${where}: ${offence.message}${found}`;
}

/** The same offence seen from a parent tree, e.g. inside `data/initialisation`. */
export function prefixOffence(prefix: string, offence: Offence): Offence {
  return { ...offence, file: `${prefix}/${offence.file}` };
}
