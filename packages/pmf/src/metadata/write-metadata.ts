/** Writes metadata in the PMF shape: every field present, nulls included, mappings in block style. */
import { writeYaml } from '../yaml/pyyaml-dialect.js';
import type { InitialisationRecord, PmfMetadata } from './pmf-metadata.js';

/**
 * The text of a `metadata.yaml`. Checkpoint references keep their type (`10` vs `'10'`).
 *
 * @example
 * await writeFile(join(root, 'metadata.yaml'), metadataToYaml(metadata));
 */
export function metadataToYaml(metadata: PmfMetadata): string {
  const { format, model } = metadata;
  const training = model.training;
  return writeYaml({
    format: {
      version: format.version,
      producer: { name: format.producer.name, version: { ...format.producer.version } },
    },
    model: {
      name: model.name,
      id: model.id,
      configuration: { ...model.configuration },
      initialisation: initialisationValue(model.initialisation),
      training: {
        status: training.status,
        start_time: training.start_time,
        start_epoch: training.start_epoch,
        latest_time: training.latest_time,
        latest_epoch: training.latest_epoch,
        end_time: training.end_time,
        end_epoch: training.end_epoch,
        latest: training.latest,
        checkpoints: new Map(
          [...training.checkpoints].map(([reference, checkpoint]) => [reference, { ...checkpoint }] as const),
        ),
      },
    },
  });
}

function initialisationValue(initialisation: InitialisationRecord | null): unknown {
  if (initialisation === null) return null;
  if ('pmf' in initialisation) return { pmf: { ...initialisation.pmf } };
  return { file: { ...initialisation.file } };
}
