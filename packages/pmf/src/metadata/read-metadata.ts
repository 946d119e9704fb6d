/** Reads and validates a `metadata.yaml` file from disk. */
import { readFile } from 'node:fs/promises';
import type { Offence } from '../validation/offence.js';
import { readYaml } from '../yaml/pyyaml-dialect.js';
import { type MetadataValidation, validateMetadata } from './validate-metadata.js';

/**
 * Reads `path` and validates it; `file` names it in offences. Unreadable or malformed YAML
 * becomes offences too, never an exception.
 */
export async function readMetadata(path: string, file = 'metadata.yaml'): Promise<MetadataValidation> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return emptyValidation([{ kind: 'metadata', file, message: `cannot be read (${reason})` }]);
  }
  const reading = readYaml(text);
  if (!reading.ok) {
    return emptyValidation(
      reading.problems.map((problem) => ({ kind: 'metadata', file, message: `is not valid YAML: ${problem}` })),
    );
  }
  return validateMetadata(reading.value, file);
}

function emptyValidation(offences: Offence[]): MetadataValidation {
  return {
    metadata: null,
    id: null,
    configuration: null,
    initialisation: undefined,
    checkpoints: new Map(),
    offences,
  };
}
