/**
 * Uploads an artifact directory: each copied file's bytes through the blob store (skipped
 * when the server holds them), then `POST /artifacts`. The server id is kept in the
 * directory's `remote.json`, so uploading again is a no-op.
 */
import { join } from 'node:path';
import { LarderError } from '@larder/protocol';
import type { ArtifactObjectBody, RunsRemote, UploadTarget } from '../runs/runs-remote.js';
import { uploadTarget } from '../runs/runs-remote.js';
import { findUploadRecord, saveUploadRecord } from '../runs/upload-history.js';
import { FILES_DIR, readArtifactDocument } from './artifact-document.js';

export interface ResourceUploadResult {
  /** The server id; with `skip`, the id of the same-named record that was kept. */
  id: string;
  /** True when the `skip` strategy kept another record of the same name instead. */
  skipped: boolean;
  /** True when this call created the record (false when it was uploaded before). */
  created: boolean;
}

export async function uploadArtifactDirectory(
  directory: string,
  remote: RunsRemote,
  target: UploadTarget = {},
): Promise<ResourceUploadResult> {
  const previous = await findUploadRecord(directory, remote.server);
  if (previous) return { id: previous.id, skipped: false, created: false };
  const document = await readArtifactDocument(directory);
  if (!document) throw new LarderError('NotFound', `${directory} holds no artifact.json`);
  const objects: ArtifactObjectBody[] = [];
  for (const object of document.objects) {
    if (!('sha256' in object)) {
      objects.push({ path: object.path, uri: object.uri });
      continue;
    }
    const stored = await remote.uploadFile(join(directory, FILES_DIR, ...object.path.split('/')));
    if (stored.sha256 !== object.sha256) {
      throw new LarderError(
        'BadRequest',
        `${object.path} in ${directory} changed after it was added; add it again to a new artifact`,
      );
    }
    objects.push({ path: object.path, sha256: stored.sha256, size: stored.size });
  }
  const resolved = uploadTarget(target);
  const record = await remote.createArtifact({
    name: document.name,
    altName: document.altName,
    ...resolved,
    labels: document.labels,
    description: document.description,
    objects,
  });
  if (record.altName !== undefined && record.altName !== document.altName) {
    return { id: record._id, skipped: true, created: false };
  }
  await saveUploadRecord(directory, {
    server: remote.server,
    id: record._id,
    folder: resolved.folder,
    uploadedAt: new Date().toISOString(),
    series: [],
  });
  return { id: record._id, skipped: false, created: true };
}
