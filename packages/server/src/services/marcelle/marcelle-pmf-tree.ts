/**
 * A Marcelle model document as a PMF tree, so that it can be a registry version: the model
 * files go to `data/checkpoints/` (one checkpoint: `model.json` for tfjs, the `.onnx` file
 * for ONNX), the document itself (name, format, metadata) becomes the configuration file
 * `marcelle.json`, and `metadata.yaml` records them with their MD5s. The YAML is written in
 * the block style PMF uses, with every string double-quoted (valid YAML and JSON strings).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Actor } from '../../auth/actor.js';
import { recordBlobClaim } from '../../auth/blob-access.js';
import type { BlobStore } from '../../blobs/blob-store.js';
import { confirmUpload } from '../../blobs/lifecycle/blob-uploads.js';
import type { DocumentStore, StoredDocument } from '../../stores/document-store.js';
import type { MarcelleModelFormat } from './marcelle-models-service.js';
import type { ModelFilePair } from './model-files-field.js';

export const PRODUCER = { name: 'larder_marcelle', versionFormat: 'semver', version: '0.1.0' } as const;
export const CONFIGURATION_FILE = 'marcelle.json';
export const CHECKPOINTS_FOLDER = 'data/checkpoints';

export interface TreeFile {
  path: string;
  sha256: string;
  size: number;
}

export interface MarcelleTree {
  files: TreeFile[];
  folders: string[];
  pmf: Record<string, unknown>;
}

/** The file that is the checkpoint of a format's model, among the document's files. */
export function mainModelFile(format: MarcelleModelFormat, files: readonly ModelFilePair[]): ModelFilePair | undefined {
  return format === 'tfjs'
    ? files.find(([name]) => name === 'model.json')
    : files.find(([name]) => name.endsWith('.onnx'));
}

/** The epoch a document was saved at (Marcelle's Python clients put it top-level or in metadata). */
export function epochOf(record: StoredDocument): number | undefined {
  const metadata = record.metadata as Record<string, unknown> | undefined;
  const epoch = record.epoch ?? metadata?.epoch;
  return Number.isSafeInteger(epoch) && (epoch as number) >= 0 ? (epoch as number) : undefined;
}

interface BuildOptions {
  store: DocumentStore;
  blobs: BlobStore;
  actor: Actor;
  modelName: string;
}

/** Builds the tree of a document; new files (metadata, configuration) are stored as blobs the actor holds. */
export async function marcelleTree(
  record: StoredDocument,
  format: MarcelleModelFormat,
  files: readonly ModelFilePair[],
  options: BuildOptions,
): Promise<MarcelleTree | undefined> {
  const main = mainModelFile(format, files);
  if (!main) return undefined;
  const treeFiles: TreeFile[] = [];
  for (const [name, sha256] of files) {
    const info = await options.blobs.stat(sha256);
    if (!info) return undefined;
    treeFiles.push({ path: `${CHECKPOINTS_FOLDER}/${safeFileName(name)}`, sha256, size: info.size });
  }
  const { files: _files, blobs: _blobs, registry: _registry, ...description } = record;
  const configuration = Buffer.from(`${JSON.stringify(description, null, 2)}\n`);
  const configurationFile = await storeBytes(options, CONFIGURATION_FILE, configuration);
  const parameters = await storeBytes(options, 'data/build_parameters.yaml', Buffer.from('{}\n'));
  const epoch = epochOf(record) ?? 0;
  const reference = epochOf(record) === undefined ? 'final' : `epoch-${epoch}`;
  const checkpointPath = `${CHECKPOINTS_FOLDER}/${safeFileName(main[0])}`;
  const checkpointMd5 = await md5Of(options.blobs, main[1]);
  const now = Date.now() / 1000;
  const configurationMd5 = createHash('md5').update(configuration).digest('hex');
  const yaml = metadataYaml({
    name: options.modelName,
    id: record._id,
    configurationMd5,
    reference,
    epoch,
    checkpointPath,
    checkpointMd5,
    time: now,
  });
  const metadata = await storeBytes(options, 'metadata.yaml', Buffer.from(yaml));
  return {
    files: [metadata, parameters, configurationFile, ...treeFiles],
    folders: ['data/initialisation'],
    pmf: {
      formatVersion: '1.0.0',
      producer: { ...PRODUCER },
      name: options.modelName,
      id: record._id,
      configuration: { path: CONFIGURATION_FILE, md5: configurationMd5 },
      buildParameters: {},
      initialisation: null,
      training: {
        status: 'finished',
        startEpoch: 0,
        startTime: now,
        latestEpoch: epoch,
        latestTime: now,
        endEpoch: epoch,
        endTime: now,
        latest: reference,
      },
      checkpoints: [{ reference, epoch, path: checkpointPath, md5: checkpointMd5 }],
    },
  };
}

/** `data/checkpoints` holds files only: a name never makes a folder. */
function safeFileName(name: string): string {
  const cleaned = name.replace(/[/\\]/g, '_').replace(/^\.+$/, '_');
  return cleaned === '' ? '_' : cleaned;
}

async function storeBytes(options: BuildOptions, path: string, bytes: Buffer): Promise<TreeFile> {
  const { sha256, size } = await options.blobs.put(Readable.from([bytes]));
  await confirmUpload(options.store, options.blobs, sha256);
  await recordBlobClaim(options.store, options.actor, sha256);
  return { path, sha256, size };
}

async function md5Of(blobs: BlobStore, sha256: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of await blobs.get(sha256)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

interface MetadataFields {
  name: string;
  id: string;
  configurationMd5: string;
  reference: string;
  epoch: number;
  checkpointPath: string;
  checkpointMd5: string;
  time: number;
}

function metadataYaml(fields: MetadataFields): string {
  const text = (value: string) => JSON.stringify(value);
  const time = fields.time.toFixed(3);
  return [
    'format:',
    `  version: ${text('1.0.0')}`,
    '  producer:',
    `    name: ${text(PRODUCER.name)}`,
    '    version:',
    `      format: ${text(PRODUCER.versionFormat)}`,
    `      value: ${text(PRODUCER.version)}`,
    'model:',
    `  name: ${text(fields.name)}`,
    `  id: ${text(fields.id)}`,
    '  configuration:',
    `    path: ${text(CONFIGURATION_FILE)}`,
    `    hash: ${text(fields.configurationMd5)}`,
    '  initialisation: null',
    '  training:',
    `    status: ${text('finished')}`,
    `    start_time: ${time}`,
    '    start_epoch: 0',
    `    latest_time: ${time}`,
    `    latest_epoch: ${fields.epoch}`,
    `    end_time: ${time}`,
    `    end_epoch: ${fields.epoch}`,
    `    latest: ${text(fields.reference)}`,
    '    checkpoints:',
    `      ${text(fields.reference)}:`,
    `        epoch: ${fields.epoch}`,
    `        path: ${text(fields.checkpointPath)}`,
    `        hash: ${text(fields.checkpointMd5)}`,
    '',
  ].join('\n');
}
