/**
 * The bytes of one stored object (see FORMAT.md): the magic `LSO1`, a 4-byte little-endian
 * header length, a JSON header padded with spaces to an 8-byte boundary, then the payload:
 * a tensor's raw little-endian elements, or UTF-8 JSON for commits, model manifests and tags.
 * An object's id is the SHA-256 of all of these bytes, so for a tensor it covers dtype, shape
 * and data.
 */
import { createHash, hash as oneShotHash } from 'node:crypto';
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

/**
 * Tensor headers by dtype and shape: a column's samples share one, so it is encoded once.
 * Bounded, since shapes may all differ.
 */
const tensorHeads = new Map<string, Uint8Array>();
const HEAD_CACHE_LIMIT = 4096;

/** The bytes a tensor object starts with (magic, length, header): shared, never to be changed. */
export function tensorHead(t: Tensor): Uint8Array {
  // A column's samples come one after another with the same dtype and shape.
  if (t.dtype === last.dtype && sameShape(t.shape, last.shape)) return last.head;
  const key = `${t.dtype}:${t.shape.join(',')}`;
  let head = tensorHeads.get(key);
  if (head === undefined) {
    head = encodeHead({ kind: 'tensor', dtype: t.dtype, shape: [...t.shape] });
    if (tensorHeads.size >= HEAD_CACHE_LIMIT) tensorHeads.clear();
    tensorHeads.set(key, head);
  }
  last = { dtype: t.dtype, shape: [...t.shape], head };
  return head;
}

let last: { dtype: string; shape: readonly number[]; head: Uint8Array } = {
  dtype: '',
  shape: [],
  head: new Uint8Array(),
};

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

export function encodeTensorObject(t: Tensor): EncodedObject {
  const head = tensorHead(t);
  const payload = tensorBytes(t);
  if (payload.byteLength > SMALL_OBJECT_BYTES) return encoded([head, payload]);
  // Small objects as one contiguous copy, hashed in one call (they are stored in packs by the many).
  const bytes = Buffer.allocUnsafe(head.byteLength + payload.byteLength);
  bytes.set(head, 0);
  bytes.set(payload, head.byteLength);
  return { hash: oneShotHash('sha256', bytes, 'hex'), chunks: [bytes], size: bytes.byteLength };
}

/** Below this, an object is copied into one buffer before hashing. */
const SMALL_OBJECT_BYTES = 64 * 1024;

export function encodeJsonObject(kind: JsonObjectKind, value: unknown): EncodedObject {
  return encode({ kind }, new TextEncoder().encode(canonicalJson(value)));
}

/** The SHA-256 (hex) of a sequence of byte chunks. */
export function sha256(chunks: readonly Uint8Array[]): string {
  if (chunks.length === 1) return oneShotHash('sha256', chunks[0] as Uint8Array, 'hex');
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

/** Parses an object's bytes (already checked against its hash), refusing anything malformed. */
export function decodeObject(bytes: Uint8Array, hash: string): DecodedObject {
  const { header, payload } = split(bytes, hash);
  if (header.kind === 'tensor') {
    const { dtype, shape } = header;
    // A column's samples share one parsed header, checked the first time it is seen.
    if (!checkedTensorHeads.has(header)) {
      if (!isDType(dtype) || !Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        return corrupt(hash, 'its tensor header is invalid');
      }
      checkedTensorHeads.add(header);
    }
    const tensorType = dtype as keyof typeof DTYPES;
    const dims = shape as readonly number[];
    if (payload.byteLength !== elementCount(dims) * DTYPES[tensorType].bytes) {
      return corrupt(hash, 'its data does not match its shape');
    }
    return { kind: 'tensor', tensor: tensorFromBytes(tensorType, dims, payload) };
  }
  if (typeof header.kind !== 'string' || !JSON_KINDS.has(header.kind)) return corrupt(hash, 'its kind is unknown');
  try {
    return { kind: header.kind as JsonObjectKind, value: JSON.parse(new TextDecoder().decode(payload)) };
  } catch (cause) {
    return corrupt(hash, 'its JSON payload does not parse', cause);
  }
}

/** Parsed tensor headers whose dtype and shape have been checked. */
const checkedTensorHeads = new WeakSet<ObjectHeader>();

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
  return encoded([encodeHead(header), payload]);
}

function encoded(chunks: Uint8Array[]): EncodedObject {
  return { hash: sha256(chunks), chunks, size: chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0) };
}

/** The magic, the header length and the JSON header padded with spaces to an 8-byte boundary. */
function encodeHead(header: Record<string, unknown>): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.byteLength) / 8) * 8 - 8;
  const head = new Uint8Array(8 + padded).fill(0x20, 8 + json.byteLength);
  head.set(new TextEncoder().encode(OBJECT_MAGIC), 0);
  new DataView(head.buffer).setUint32(4, padded, true);
  head.set(json, 8);
  return head;
}

interface ObjectHeader {
  kind?: unknown;
  dtype?: unknown;
  shape?: unknown;
}

/** Parsed headers by their text: samples of a column share one (frozen: callers only read them). */
const parsedHeads = new Map<string, ObjectHeader>();
const MAGIC = [0x4c, 0x53, 0x4f, 0x31];

/** The header bytes seen last and what they parse to: consecutive reads are mostly of one column. */
let lastHead: { bytes: Uint8Array; header: ObjectHeader } | undefined;

function split(bytes: Uint8Array, hash: string): { header: ObjectHeader; payload: Uint8Array } {
  if (bytes.byteLength < 8 || MAGIC.some((byte, index) => bytes[index] !== byte)) {
    return corrupt(hash, 'it does not start with the stock object magic');
  }
  const length =
    ((bytes[4] as number) | ((bytes[5] as number) << 8) | ((bytes[6] as number) << 16)) +
    (bytes[7] as number) * 2 ** 24;
  if (8 + length > bytes.byteLength) return corrupt(hash, 'its header runs past its end');
  if (lastHead !== undefined && sameHead(lastHead.bytes, bytes, length)) {
    return { header: lastHead.header, payload: bytes.subarray(8 + length) };
  }
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + length));
  let header = parsedHeads.get(text);
  if (header === undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (cause) {
      return corrupt(hash, 'its header does not parse', cause);
    }
    if (parsed === null || typeof parsed !== 'object') return corrupt(hash, 'its header is not an object');
    header = Object.freeze(parsed) as ObjectHeader;
    // Tensors read through this header share its shape: frozen too.
    if (Array.isArray(header.shape)) Object.freeze(header.shape);
    if (text.length <= 256) {
      if (parsedHeads.size >= HEAD_CACHE_LIMIT) parsedHeads.clear();
      parsedHeads.set(text, header);
    }
  }
  if (length <= 256) lastHead = { bytes: bytes.slice(8, 8 + length), header };
  return { header, payload: bytes.subarray(8 + length) };
}

/** Whether `bytes` holds a header of `length` bytes equal to `head`. */
function sameHead(head: Uint8Array, bytes: Uint8Array, length: number): boolean {
  if (head.byteLength !== length) return false;
  for (let i = 0; i < length; i += 1) if (head[i] !== bytes[8 + i]) return false;
  return true;
}
