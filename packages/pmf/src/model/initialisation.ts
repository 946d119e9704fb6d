/** Building a model initialisation from a path: a PMF model directory or a weight file. */
import { join } from 'node:path';
import { Checkpoint } from '../components/checkpoint.js';
import { PmfModelError } from '../errors/pmf-error.js';
import { fileKind } from '../files/file-kind.js';
import type { CheckpointReference } from '../metadata/pmf-metadata.js';
import { describeReference } from '../metadata/training-rules.js';
import { loadModel } from './load-model.js';
import { type Model, restoreOrigin } from './model.js';

/**
 * The initialisation found at `path`: a `Model` for a PMF model directory (its checkpoint
 * files are not required), or a `Checkpoint` for a weight file.
 *
 * @example
 * const fromModel = await initialisation('models/pretrained', 'epoch-90');
 * const fromFile = await initialisation('downloads/imagenet.h5', undefined, 'imagenet');
 *
 * @throws PmfModelError `not-found` when `path` is neither; `invalid-initialisation` when a
 * PMF model comes without a registered `checkpointReference`, or a file without a `name`.
 * @throws PmfValidationError when the PMF model is invalid.
 */
export async function initialisation(
  path: string,
  checkpointReference?: CheckpointReference,
  name?: string,
): Promise<Model | Checkpoint> {
  const kind = await fileKind(path);
  if (kind === 'file') {
    if (name === undefined) {
      throw new PmfModelError('invalid-initialisation', `${path} is a weight file: give the initialisation a name`);
    }
    return Checkpoint.fromFile(name, path);
  }
  if (kind === 'directory' && (await fileKind(join(path, 'metadata.yaml'))) === 'file') {
    if (checkpointReference === undefined) {
      throw new PmfModelError(
        'invalid-initialisation',
        `${path} is a PMF model: give the reference of the checkpoint used to initialise`,
      );
    }
    const model = await loadModel(path, { strict: true, verbose: false, checkpoints: false });
    if (!model.checkpointCollection.has(checkpointReference)) {
      const known = [...model.checkpointCollection.keys()].map(describeReference).join(', ') || 'none';
      throw new PmfModelError(
        'invalid-initialisation',
        `${path} has no checkpoint ${describeReference(checkpointReference)} (it has: ${known})`,
      );
    }
    model[restoreOrigin]({ checkpoint: checkpointReference });
    return model;
  }
  const what = kind === 'missing' ? 'does not exist' : 'is neither a PMF model nor a weight file';
  throw new PmfModelError('not-found', `Initialisation ${path} ${what}`);
}
