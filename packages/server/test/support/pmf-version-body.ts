/**
 * A small valid PMF tree for tests: its files uploaded by the caller, and the
 * `POST /model-versions` body naming them (the summary the SDK would read from the tree).
 */
import { createHash, randomBytes } from 'node:crypto';

type Upload = (content: Buffer | string) => Promise<{ sha256: string; size: number }>;

const md5 = (content: Buffer | string) => createHash('md5').update(content).digest('hex');

export async function pmfVersionBody(
  upload: Upload,
  modelId: string,
  options: { weights?: Buffer; config?: string; description?: string } = {},
) {
  const weights = options.weights ?? randomBytes(512);
  const config = options.config ?? 'learning_rate: 0.1\n';
  const contents: Record<string, Buffer | string> = {
    'metadata.yaml': `format: {version: '1.0.0'}\nmodel: {id: m-${randomBytes(4).toString('hex')}}\n`,
    'config.yaml': config,
    'data/build_parameters.yaml': 'layers: 3\n',
    'data/checkpoints/1.bin': weights,
  };
  const files: { path: string; sha256: string; size: number }[] = [];
  for (const [path, content] of Object.entries(contents)) files.push({ path, ...(await upload(content)) });
  return {
    modelId,
    ...(options.description !== undefined ? { description: options.description } : {}),
    files,
    pmf: {
      formatVersion: '1.0.0',
      producer: { name: 'larder_tests', versionFormat: 'py_pa', version: '1.0' },
      name: 'resnet',
      id: 'pmf-id',
      configuration: { path: 'config.yaml', md5: md5(config) },
      buildParameters: { layers: 3 },
      initialisation: null,
      training: {
        status: 'finished',
        startEpoch: 0,
        startTime: 1_700_000_000,
        latestEpoch: 1,
        latestTime: 1_700_000_010,
        endEpoch: 1,
        endTime: 1_700_000_010,
        latest: 1,
      },
      checkpoints: [{ reference: 1, epoch: 1, path: 'data/checkpoints/1.bin', md5: md5(weights) }],
    },
  };
}
