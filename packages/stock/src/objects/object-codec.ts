/**
 * The bytes of one stored object (see FORMAT.md): the magic `LSO1`, a 4-byte little-endian
 * header length, a JSON header padded with spaces to an 8-byte boundary, then the payload:
 * a tensor's raw little-endian elements, or UTF-8 JSON for commits, model manifests and tags.
 * An object's id is the SHA-256 of all of these bytes, so for a tensor it covers dtype, shape
 * and data.
 */
import { createHash } from 'node:crypto';
import { LarderError } from '@larder/protocol';
import { DTYPES, isDType } from '../tensor/dtypes.js';
import { elementCount, type Tensor } from '../tensor/tensor.js';
import { tensorBytes, tensorFromBytes } from '../tensor/tensor-bytes.js';
import { canonicalJson } from './canonical-json.js';

export const OBJECT_MAGIC = 'LSO1';
export type JsonObjectKind = 'commit' | 'model' | 'tag';
export type ObjectKind = 'tensor' | JsonObjectKind;
const JSON_KINDS: ReadonlySet<string> = new Set(['commit', 'model', 'tag']);

/** An object ready to be written: its id and the byte chunks that make it up. */
export interface EncodedObject {
  hash: string;
  chunks: Uint8Array[];
  size: number;
}

export type DecodedObject = { kind: 'tensor'; tensor: Tensor } | { kind: JsonObjectKind; value: unknown };

export const HASH_PATTERN = /^[0-9a-f]{64}$/;

export function encodeTensorObject(t: Tensor): EncodedObject {
  return encode({ kind: 'tensor', dtype: t.dtype, shape: [...t.shape] }, tensorBytes(t));
}

export function encodeJsonObject(kind: JsonObjectKind, value: unknown): EncodedObject {
  return encode({ kind }, new TextEncoder().encode(canonicalJson(value)));
}

/** The SHA-256 (hex) of a sequence of byte chunks. */
export function sha256(chunks: readonly Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

/** Parses an object's bytes (already checked against its hash), refusing anything malformed. */
export function decodeObject(bytes: Uint8Array, hash: string): DecodedObject {
  const { header, payload } = split(bytes, hash);
  if (header.kind === 'tensor') {
    const { dtype, shape } = header;
    if (!isDType(dtype) || !Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      return corrupt(hash, 'its tensor header is invalid');
    }
    if (payload.byteLength !== elementCount(shape) * DTYPES[dtype].bytes) {
      return corrupt(hash, 'its data does not match its shape');
    }
    return { kind: 'tensor', tensor: tensorFromBytes(dtype, shape, payload) };
  }
  if (typeof header.kind !== 'string' || !JSON_KINDS.has(header.kind)) return corrupt(hash, 'its kind is unknown');
  try {
    return { kind: header.kind as JsonObjectKind, value: JSON.parse(new TextDecoder().decode(payload)) };
  } catch (cause) {
    return corrupt(hash, 'its JSON payload does not parse', cause);
  }
}

/** The kind an object's bytes declare, without decoding the payload. */
export function objectKind(bytes: Uint8Array, hash: string): ObjectKind {
  const kind = split(bytes, hash).header.kind;
  if (kind === 'tensor' || (typeof kind === 'string' && JSON_KINDS.has(kind))) return kind as ObjectKind;
  return corrupt(hash, 'its kind is unknown');
}

export function corrupt(hash: string, reason: string, cause?: unknown): never {
  throw new LarderError(
    'Unprocessable',
    `Stock object ${hash.slice(0, 12)} is corrupted: ${reason}. Restore it from another copy of the repository.`,
    { data: { hash }, cause },
  );
}

function encode(header: Record<string, unknown>, payload: Uint8Array): EncodedObject {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.byteLength) / 8) * 8 - 8;
  const head = new Uint8Array(8 + padded).fill(0x20, 8 + json.byteLength);
  head.set(new TextEncoder().encode(OBJECT_MAGIC), 0);
  new DataView(head.buffer).setUint32(4, padded, true);
  head.set(json, 8);
  const chunks = [head, payload];
  return { hash: sha256(chunks), chunks, size: head.byteLength + payload.byteLength };
}

interface ObjectHeader {
  kind?: unknown;
  dtype?: unknown;
  shape?: unknown;
}

function split(bytes: Uint8Array, hash: string): { header: ObjectHeader; payload: Uint8Array } {
  if (bytes.byteLength < 8 || new TextDecoder().decode(bytes.subarray(0, 4)) !== OBJECT_MAGIC) {
    return corrupt(hash, 'it does not start with the stock object magic');
  }
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  if (8 + length > bytes.byteLength) return corrupt(hash, 'its header runs past its end');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  } catch (cause) {
    return corrupt(hash, 'its header does not parse', cause);
  }
  if (header === null || typeof header !== 'object') return corrupt(hash, 'its header is not an object');
  return { header: header as ObjectHeader, payload: bytes.subarray(8 + length) };
}
