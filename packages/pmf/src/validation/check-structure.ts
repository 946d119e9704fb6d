/**
 * The PMF directory shape: `data/` holding `build_parameters.yaml`, an `initialisation/`
 * directory and (except inside an initialisation model) a `checkpoints/` directory of files.
 * Other files and folders are allowed anywhere.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileKind } from '../files/file-kind.js';
import { readYaml } from '../yaml/pyyaml-dialect.js';
import type { Offence } from './offence.js';

export interface Structure {
  /** Entries of `data/initialisation`, or `null` when it is not a directory. */
  initialisationEntries: string[] | null;
  offences: Offence[];
}

/** Checks the directory shape under `root`. */
export async function checkStructure(root: string, checkpoints: boolean): Promise<Structure> {
  const offences: Offence[] = [];
  const tree = (file: string, message: string) => offences.push({ kind: 'tree', file, message });
  const data = await fileKind(join(root, 'data'));
  if (data !== 'directory') {
    tree('data', data === 'missing' ? 'is missing: a PMF model keeps its files in data/' : 'must be a directory');
    return { initialisationEntries: null, offences };
  }

  const parameters = await fileKind(join(root, 'data', 'build_parameters.yaml'));
  if (parameters !== 'file') {
    tree('data/build_parameters.yaml', parameters === 'missing' ? 'is missing' : 'must be a file');
  } else {
    const reading = readYaml(await readFile(join(root, 'data', 'build_parameters.yaml'), 'utf8'));
    if (!reading.ok) {
      for (const problem of reading.problems) tree('data/build_parameters.yaml', `is not valid YAML: ${problem}`);
    } else if (reading.value !== null && !(reading.value instanceof Map)) {
      tree('data/build_parameters.yaml', 'must hold a mapping of build parameters');
    }
  }

  let initialisationEntries: string[] | null = null;
  const initialisation = await fileKind(join(root, 'data', 'initialisation'));
  if (initialisation !== 'directory') {
    const message = initialisation === 'missing' ? 'is missing (it is empty for a model trained from scratch)' : '';
    tree('data/initialisation', message || 'must be a directory');
  } else {
    initialisationEntries = await readdir(join(root, 'data', 'initialisation'));
    // A weight-file initialisation holds files only; a PMF one is checked as a model.
    if (!initialisationEntries.includes('metadata.yaml')) {
      offences.push(...(await directoriesIn(root, 'data/initialisation', initialisationEntries)));
    }
  }

  if (checkpoints) {
    const kind = await fileKind(join(root, 'data', 'checkpoints'));
    if (kind !== 'directory') {
      tree('data/checkpoints', kind === 'missing' ? 'is missing' : 'must be a directory');
    } else {
      const entries = await readdir(join(root, 'data', 'checkpoints'));
      offences.push(...(await directoriesIn(root, 'data/checkpoints', entries)));
    }
  }
  return { initialisationEntries, offences };
}

async function directoriesIn(root: string, folder: string, entries: string[]): Promise<Offence[]> {
  const offences: Offence[] = [];
  for (const entry of entries) {
    const kind = await fileKind(join(root, folder, entry));
    if (kind !== 'file') {
      offences.push({
        kind: 'tree',
        file: `${folder}/${entry}`,
        message: `must be a file (${folder} holds files only)`,
      });
    }
  }
  return offences;
}
