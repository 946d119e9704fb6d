/**
 * `artifact.json`, the metadata and object list of a local artifact. Added files are copied
 * under `files/<object path>` beside it. See runs/LOCAL-FORMAT.md.
 */
import { join } from 'node:path';
import { LarderError } from '@larder/protocol';
import { isObject, readJsonFile } from '../runs/local-json-file.js';

export const ARTIFACT_FILE = 'artifact.json';
export const FILES_DIR = 'files';

/** A copied file (by content hash) or a reference to data elsewhere. */
export type ArtifactObject = { path: string; sha256: string; size: number } | { path: string; uri: string };

export interface ArtifactDocument {
  format: 1;
  kind: 'artifact';
  name: string;
  altName: string;
  labels: string[];
  description: string;
  createdTime: string;
  objects: ArtifactObject[];
}

export async function readArtifactDocument(directory: string): Promise<ArtifactDocument | undefined> {
  const document = await readJsonFile(join(directory, ARTIFACT_FILE));
  if (document === undefined) return undefined;
  if (!isObject(document) || document.kind !== 'artifact' || !Array.isArray(document.objects)) {
    throw new LarderError('BadRequest', `${join(directory, ARTIFACT_FILE)} does not describe an artifact`);
  }
  return document as unknown as ArtifactDocument;
}
