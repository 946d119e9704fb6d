/**
 * Creating and loading artifacts: a new one gets its own directory under
 * `$LARDER_ARTIFACT_PARENT_DIR` (default `.larder/artifacts`); a load looks for a local
 * directory first, then for the path on the server.
 */
import { mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LarderError } from '@larder/protocol';
import { type RemoteOptions, withRemote } from '../runs/data-store-runs-remote.js';
import { alternativeName, artifactParentDir, assertResourceName } from '../runs/local-directories.js';
import { writeJsonFileSync } from '../runs/local-json-file.js';
import { splitRemotePath } from '../runs/remote-path.js';
import { saveUploadRecord } from '../runs/upload-history.js';
import { Artifact } from './artifact.js';
import {
  ARTIFACT_FILE,
  type ArtifactDocument,
  type ArtifactObject,
  readArtifactDocument,
} from './artifact-document.js';

export interface CreateArtifactOptions {
  name: string;
  labels?: readonly string[];
  description?: string;
}

/**
 * @example
 * const logs = await createArtifact({ name: 'tensorboard_logs' });
 * await logs.addDir('runs/');
 * run.markOutput(logs);
 */
export async function createArtifact(options: CreateArtifactOptions): Promise<Artifact> {
  assertResourceName('artifact', options.name);
  const document: ArtifactDocument = {
    format: 1,
    kind: 'artifact',
    name: options.name,
    altName: alternativeName(options.name),
    labels: [...(options.labels ?? [])],
    description: options.description ?? '',
    createdTime: new Date().toISOString(),
    objects: [],
  };
  const directory = resolve(artifactParentDir(), document.altName);
  await mkdir(directory, { recursive: true });
  writeJsonFileSync(join(directory, ARTIFACT_FILE), document);
  return new Artifact(directory, document);
}

/**
 * Opens an artifact from its local directory or, failing that, from the server
 * (`/<owner>/folder/name`, or relative to your home). A server artifact is recorded locally
 * under `$LARDER_ARTIFACT_PARENT_DIR` with its object list; file bytes are not downloaded.
 *
 * @example
 * const logs = await loadArtifact('.larder/artifacts/tensorboard_logs_250102_093015_k3x9q2');
 */
export async function loadArtifact(path: string, options: RemoteOptions = {}): Promise<Artifact> {
  const local = resolve(path);
  if (await isDirectory(local)) {
    const document = await readArtifactDocument(local);
    if (document) return new Artifact(local, document);
  }
  const remotePath = splitRemotePath(path);
  const found =
    remotePath &&
    (await withRemote(options, async (remote) => {
      const record = await remote.findArtifact(remotePath);
      return record && { record, server: remote.server };
    }).catch((cause: unknown) => {
      throw new LarderError(
        'NotFound',
        `No local artifact directory at ${path}, and looking it up on the server failed: ${String(cause)}`,
        { cause },
      );
    }));
  if (!found) {
    throw new LarderError('NotFound', `No artifact at ${path}: neither a local artifact directory nor a server path`);
  }
  const { record, server } = found;
  const name = typeof record.name === 'string' ? record.name : remotePath!.name;
  const document: ArtifactDocument = {
    format: 1,
    kind: 'artifact',
    name,
    altName: typeof record.altName === 'string' ? record.altName : alternativeName(name),
    labels: Array.isArray(record.labels) ? record.labels.filter((each) => typeof each === 'string') : [],
    description: typeof record.description === 'string' ? record.description : '',
    createdTime: typeof record.createdAt === 'string' ? record.createdAt : new Date().toISOString(),
    objects: Array.isArray(record.objects) ? (record.objects as ArtifactObject[]) : [],
  };
  const directory = resolve(artifactParentDir(), document.altName);
  await mkdir(directory, { recursive: true });
  writeJsonFileSync(join(directory, ARTIFACT_FILE), document);
  await saveUploadRecord(directory, {
    server,
    id: record._id,
    folder: remotePath!.folder,
    uploadedAt: new Date().toISOString(),
    series: [],
  });
  return new Artifact(directory, document);
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}
