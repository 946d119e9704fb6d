/**
 * The files metadata.yaml names: the configuration at the root, each checkpoint in
 * `data/checkpoints` and an initialisation file in `data/initialisation`. They must exist
 * and, in strict mode, match their recorded MD5.
 */
import { join, posix } from 'node:path';
import { fileKind } from '../files/file-kind.js';
import { md5File } from '../files/md5.js';
import { describeReference } from '../metadata/training-rules.js';
import type { MetadataValidation } from '../metadata/validate-metadata.js';
import type { Offence } from './offence.js';
import { canonicalPath } from './relative-path.js';

export interface ReferenceCheck {
  root: string;
  sections: MetadataValidation;
  strict: boolean;
  checkpoints: boolean;
  /** The name of the metadata file, for offences about its fields. */
  metadataFile: string;
  /** How strict mode computes a file's MD5 (default: `md5File`). */
  md5?: (absolutePath: string) => Promise<string>;
}

/** Every offence about files named by the metadata. */
export async function checkReferences(check: ReferenceCheck): Promise<Offence[]> {
  const offences: Offence[] = [];
  const { sections } = check;
  const field = (name: string, message: string) =>
    offences.push({ kind: 'metadata', file: check.metadataFile, field: name, message });

  if (sections.configuration) {
    const path = canonicalPath(sections.configuration.path);
    if (path.includes('/')) field('model.configuration.path', 'must name a file at the model root');
    else offences.push(...(await checkFile(check, path, sections.configuration.hash, 'configuration file')));
  }

  if (check.checkpoints) {
    for (const [reference, checkpoint] of sections.checkpoints) {
      const path = canonicalPath(checkpoint.path);
      const name = `checkpoint ${describeReference(reference)}`;
      if (posix.dirname(path) !== 'data/checkpoints') {
        field(`model.training.checkpoints.${reference}.path`, 'must name a file directly in data/checkpoints');
      } else {
        offences.push(...(await checkFile(check, path, checkpoint.hash, name)));
      }
    }
  }

  const initialisation = sections.initialisation;
  if (initialisation && 'file' in initialisation) {
    const path = canonicalPath(initialisation.file.path);
    if (posix.dirname(path) !== 'data/initialisation') {
      field('model.initialisation.file.path', 'must name a file directly in data/initialisation');
    } else {
      offences.push(...(await checkFile(check, path, initialisation.file.hash, 'initialisation file')));
    }
  }
  if (initialisation && 'pmf' in initialisation && canonicalPath(initialisation.pmf.path) !== 'data/initialisation') {
    field('model.initialisation.pmf.path', 'must be data/initialisation');
  }
  return offences;
}

async function checkFile(check: ReferenceCheck, path: string, hash: string, what: string): Promise<Offence[]> {
  const absolute = join(check.root, path);
  const kind = await fileKind(absolute);
  if (kind !== 'file') {
    return [{ kind: 'tree', file: path, message: kind === 'missing' ? `${what} is missing` : `${what} is not a file` }];
  }
  if (check.strict) {
    const actual = await (check.md5 ?? md5File)(absolute);
    if (actual !== hash) {
      return [{ kind: 'tree', file: path, message: `${what} does not match its recorded MD5`, found: actual }];
    }
  }
  return [];
}
