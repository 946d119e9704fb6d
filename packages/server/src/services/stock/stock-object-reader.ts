/**
 * Reads the few stock objects the server must understand (commits and model manifests) from
 * the blob store. Objects are stored as blobs under their own id: a stock object's id is the
 * SHA-256 of its whole file, which is exactly how blobs are named, and the blob routes check
 * the hash on upload. Layout (packages/stock/FORMAT.md): "LSO1", a 32-bit little-endian
 * header length, a JSON header, then the payload (canonical JSON for commits and manifests).
 */
import { LarderError } from '@larder/protocol';
import type { BlobStore } from '../../blobs/blob-store.js';

/** An object's bytes, from a repository's packs or the blob store; undefined when neither holds it. */
export type StockObjectBytes = (id: string) => Promise<Buffer | undefined>;

/** Reads objects stored as blobs under their own id (pushed before packs existed, or large). */
export function blobObjectBytes(blobs: BlobStore): StockObjectBytes {
  return async (id) => {
    const info = await blobs.stat(id);
    if (info === undefined) return undefined;
    if (info.size > MAX_JSON_OBJECT_BYTES) return Buffer.alloc(0);
    const chunks: Buffer[] = [];
    for await (const chunk of await blobs.get(id)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
}

/** Commits and manifests are small; anything larger is not one. */
const MAX_JSON_OBJECT_BYTES = 64 * 1024 * 1024;
const HASH = /^[0-9a-f]{64}$/;

export interface StockCommitObject {
  parents: string[];
  message: string;
  author: string;
  time: string;
  /** storage ("model", "tag", "data/<column>") → key → object id. */
  tree: Record<string, Record<string, string>>;
}

/** The commit stored under `id`, checked as far as the server relies on it. */
export async function readCommitObject(read: StockObjectBytes, id: string): Promise<StockCommitObject> {
  const value = (await readJsonObject(read, id, 'commit')) as Partial<StockCommitObject> & { format?: unknown };
  const invalid = (what: string): never => {
    throw new LarderError('Unprocessable', `Stock commit ${id.slice(0, 12)} is invalid: ${what}`);
  };
  if (value === null || typeof value !== 'object') return invalid('not an object');
  if (value.format !== 'larder-stock-commit/1') return invalid(`unknown format ${JSON.stringify(value.format)}`);
  if (!Array.isArray(value.parents) || !value.parents.every((parent) => HASH.test(parent))) invalid('bad parents');
  for (const field of ['message', 'author', 'time'] as const) {
    if (typeof value[field] !== 'string') invalid(`"${field}" must be a string`);
  }
  const tree = value.tree;
  if (tree === null || typeof tree !== 'object' || Array.isArray(tree)) return invalid('no tree');
  for (const keys of Object.values(tree)) {
    if (keys === null || typeof keys !== 'object' || !Object.values(keys).every((hash) => HASH.test(hash))) {
      invalid('its tree holds something other than object ids');
    }
  }
  return value as StockCommitObject;
}

/** The tensor ids a model manifest names. */
export async function readManifestTensors(read: StockObjectBytes, id: string): Promise<string[]> {
  const value = (await readJsonObject(read, id, 'model')) as { tensors?: unknown } | null;
  const tensors = value?.tensors;
  if (!Array.isArray(tensors)) {
    throw new LarderError('Unprocessable', `Stock model manifest ${id.slice(0, 12)} has no tensor list`);
  }
  return tensors.map((entry: { hash?: unknown } | null) => {
    if (typeof entry?.hash !== 'string' || !HASH.test(entry.hash)) {
      throw new LarderError('Unprocessable', `Stock model manifest ${id.slice(0, 12)} names an invalid tensor id`);
    }
    return entry.hash;
  });
}

async function readJsonObject(read: StockObjectBytes, id: string, kind: 'commit' | 'model'): Promise<unknown> {
  const bytes = await read(id);
  if (bytes === undefined) throw new LarderError('NotFound', `Stock object ${id.slice(0, 12)} is not on the server`);
  if (bytes.length === 0) notA(id, kind, 'it is far too large');
  if (bytes.length < 8 || bytes.toString('latin1', 0, 4) !== 'LSO1') notA(id, kind, 'it lacks the stock object magic');
  const headerLength = bytes.readUInt32LE(4);
  if (8 + headerLength > bytes.length) notA(id, kind, 'its header runs past its end');
  let header: { kind?: unknown } | null;
  try {
    header = JSON.parse(bytes.toString('utf8', 8, 8 + headerLength)) as { kind?: unknown } | null;
  } catch {
    return notA(id, kind, 'its header is not JSON');
  }
  if (header?.kind !== kind) notA(id, kind, `it holds a ${String(header?.kind)}`);
  try {
    return JSON.parse(bytes.toString('utf8', 8 + headerLength));
  } catch {
    return notA(id, kind, 'its payload is not JSON');
  }
}

function notA(id: string, kind: string, why: string): never {
  throw new LarderError('Unprocessable', `Stock object ${id.slice(0, 12)} is not a valid ${kind}: ${why}`);
}
