/**
 * Validation of a whole PMF tree: the metadata, the directory shape, the files the metadata
 * names and, recursively, an initialisation model. Every offence is collected.
 */
import { join } from 'node:path';
import { fileKind } from '../files/file-kind.js';
import type { PmfMetadata } from '../metadata/pmf-metadata.js';
import { readMetadata } from '../metadata/read-metadata.js';
import { describeReference } from '../metadata/training-rules.js';
import { checkReferences } from './check-references.js';
import { checkStructure } from './check-structure.js';
import { type Offence, prefixOffence } from './offence.js';

export interface InspectOptions {
  /** Also compare the MD5 of every tracked file with the recorded one. */
  strict: boolean;
  /** Require checkpoint files; `false` inside an initialisation model, which records checkpoints only. */
  checkpoints: boolean;
  /** How strict mode computes a file's MD5 (default: `md5File`). */
  md5?: (absolutePath: string) => Promise<string>;
}

export interface Inspection {
  /** The metadata, when the tree has no offence at all. */
  metadata: PmfMetadata | null;
  offences: Offence[];
}

/** Validates the tree at `root`. Never throws for a malformed tree; I/O failures still throw. */
export async function inspectModel(root: string, options: InspectOptions): Promise<Inspection> {
  const rootKind = await fileKind(root);
  if (rootKind !== 'directory') {
    const message = rootKind === 'missing' ? 'does not exist' : 'is not a directory';
    return { metadata: null, offences: [{ kind: 'tree', file: '.', message }] };
  }
  const offences: Offence[] = [];
  const metadataKind = await fileKind(join(root, 'metadata.yaml'));
  if (metadataKind !== 'file') {
    const message = metadataKind === 'missing' ? 'is missing: this is not a PMF model' : 'must be a file';
    offences.push({ kind: 'tree', file: 'metadata.yaml', message });
  }
  const sections = metadataKind === 'file' ? await readMetadata(join(root, 'metadata.yaml')) : null;
  if (sections) offences.push(...sections.offences);

  const structure = await checkStructure(root, options.checkpoints);
  offences.push(...structure.offences);

  if (sections) {
    offences.push(
      ...(await checkReferences({ root, sections, metadataFile: 'metadata.yaml', ...options })),
      ...(await checkInitialisation(root, sections.initialisation, structure.initialisationEntries, options)),
    );
  }
  const metadata = offences.length === 0 ? (sections?.metadata ?? null) : null;
  return { metadata, offences };
}

async function checkInitialisation(
  root: string,
  record: PmfMetadata['model']['initialisation'] | undefined,
  entries: string[] | null,
  options: InspectOptions,
): Promise<Offence[]> {
  if (entries === null) return [];
  const isModel = entries.includes('metadata.yaml');
  const field = (name: string, message: string): Offence => ({
    kind: 'tree',
    file: 'metadata.yaml',
    field: name,
    message,
  });
  if (record && 'file' in record && isModel) {
    return [field('model.initialisation', 'names a weight file but data/initialisation holds a PMF model')];
  }
  if (!isModel) {
    if (record && 'pmf' in record) {
      return [field('model.initialisation', 'names a PMF model but data/initialisation has no metadata.yaml')];
    }
    return [];
  }
  // A PMF tree in data/initialisation is validated even when the metadata record is invalid.
  const nested = await inspectModel(join(root, 'data', 'initialisation'), { ...options, checkpoints: false });
  const offences = nested.offences.map((offence) => prefixOffence('data/initialisation', offence));
  if (record && 'pmf' in record && nested.metadata) {
    const { id, checkpoint } = record.pmf;
    if (nested.metadata.model.id !== id) {
      offences.push(
        field('model.initialisation.pmf.id', `is "${id}" but data/initialisation holds "${nested.metadata.model.id}"`),
      );
    }
    if (!nested.metadata.model.training.checkpoints.has(checkpoint)) {
      const reference = describeReference(checkpoint);
      offences.push(
        field('model.initialisation.pmf.checkpoint', `${reference} is not a checkpoint of the initialisation model`),
      );
    }
  }
  return offences;
}
