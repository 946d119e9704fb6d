/**
 * The safetensors file format: an 8-byte little-endian header length N, N bytes of JSON
 * (`{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, "__metadata__": {...}}`,
 * offsets relative to the data that follows), then the tensors' raw little-endian bytes,
 * every byte belonging to exactly one tensor.
 *
 * @example
 * const bytes = encodeSafetensors(new Map([['bias', tensor([0, 1])]]), { framework: 'tfjs' });
 * const { tensors, metadata } = decodeSafetensors(bytes);
 */
import { LarderError } from '@larder/protocol';
import { DTYPES, type DType } from '../tensor/dtypes.js';
import { elementCount, type Tensor } from '../tensor/tensor.js';
import { tensorBytes, tensorFromBytes } from '../tensor/tensor-bytes.js';

export interface SafetensorsContent {
  /** The tensors in the order their data appears in the file. */
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** Headers larger than this are refused, as the reference implementation does. */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

const TO_SAFETENSORS: Record<DType, string> = {
  bool: 'BOOL',
  uint8: 'U8',
  int8: 'I8',
  int16: 'I16',
  uint16: 'U16',
  float16: 'F16',
  int32: 'I32',
  uint32: 'U32',
  float32: 'F32',
  float64: 'F64',
  int64: 'I64',
  uint64: 'U64',
};

const FROM_SAFETENSORS = new Map<string, DType>(
  Object.entries(TO_SAFETENSORS).map(([dtype, code]) => [code, dtype as DType]),
);

/**
 * The first part of a safetensors file (length prefix and JSON header) for tensors written in
 * the given order; their bytes follow in that order.
 */
export function encodeSafetensorsHeader(
  tensors: ReadonlyMap<string, Tensor>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header[METADATA_KEY] = { ...metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === METADATA_KEY)
      throw new LarderError('BadRequest', `"${METADATA_KEY}" cannot name a tensor in safetensors`);
    const end = offset + t.data.byteLength;
    header[name] = { dtype: TO_SAFETENSORS[t.dtype], shape: [...t.shape], data_offsets: [offset, end] };
    offset = end;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  // Trailing spaces (which the format allows) align the data on 8 bytes for zero-copy reads.
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const out = new Uint8Array(8 + padded).fill(0x20, 8 + json.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return out;
}

/** A whole safetensors file in memory (use `writeSafetensorsFile` for large models). */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, Tensor>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const header = encodeSafetensorsHeader(tensors, metadata);
  let size = header.byteLength;
  for (const t of tensors.values()) size += t.data.byteLength;
  const out = new Uint8Array(size);
  out.set(header);
  let offset = header.byteLength;
  for (const t of tensors.values()) {
    out.set(tensorBytes(t), offset);
    offset += t.data.byteLength;
  }
  return out;
}

/** Reads a safetensors file's bytes, refusing malformed files with a sentence saying what is wrong. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsContent {
  if (bytes.byteLength < 8) malformed(`the file has ${bytes.byteLength} bytes, fewer than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) malformed(`the header length ${declared} exceeds ${MAX_HEADER_BYTES} bytes`);
  const headerLength = Number(declared);
  if (8 + headerLength > bytes.byteLength) {
    malformed(`the header length ${headerLength} runs past the end of the ${bytes.byteLength}-byte file`);
  }
  const header = parseHeader(bytes.subarray(8, 8 + headerLength));
  const data = bytes.subarray(8 + headerLength);
  const metadata = readMetadata(header[METADATA_KEY]);
  const placed: { name: string; dtype: DType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === METADATA_KEY) continue;
    placed.push({ name, ...readEntry(name, entry, data.byteLength) });
  }
  placed.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const entry of placed) {
    if (entry.begin < covered) malformed(`tensor "${entry.name}" overlaps the data of another tensor`);
    if (entry.begin > covered) malformed(`bytes ${covered}-${entry.begin} of the data belong to no tensor`);
    covered = entry.end;
  }
  if (covered !== data.byteLength) malformed(`bytes ${covered}-${data.byteLength} of the data belong to no tensor`);
  const tensors = new Map<string, Tensor>();
  for (const entry of placed) {
    tensors.set(entry.name, tensorFromBytes(entry.dtype, entry.shape, data.subarray(entry.begin, entry.end)));
  }
  return { tensors, metadata };
}

function parseHeader(raw: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch (cause) {
    return malformed('the header is not valid UTF-8', cause);
  }
  if (!text.startsWith('{')) malformed('the header does not start with "{"');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    return malformed(`the header is not valid JSON (${(cause as Error).message})`, cause);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    malformed('the header is not a JSON object');
  return parsed as Record<string, unknown>;
}

function readMetadata(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    malformed(`"${METADATA_KEY}" is not an object`);
  const metadata: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value as Record<string, unknown>)) {
    if (typeof entry !== 'string') malformed(`"${METADATA_KEY}.${key}" is not a string`);
    metadata[key] = entry as string;
  }
  return metadata;
}

function readEntry(name: string, entry: unknown, dataLength: number) {
  if (entry === null || typeof entry !== 'object') malformed(`the entry for tensor "${name}" is not an object`);
  const { dtype: code, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  const dtype = typeof code === 'string' ? FROM_SAFETENSORS.get(code) : undefined;
  if (dtype === undefined) {
    malformed(
      `tensor "${name}" has dtype ${JSON.stringify(code)}; supported: ${[...FROM_SAFETENSORS.keys()].join(', ')}`,
    );
  }
  if (!Array.isArray(shape) || !shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
    malformed(`tensor "${name}" has a shape that is not a list of non-negative integers`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((offset) => Number.isSafeInteger(offset) && offset >= 0)
  ) {
    malformed(`tensor "${name}" has data_offsets that are not two non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) malformed(`tensor "${name}" ends (${end}) before it begins (${begin})`);
  if (end > dataLength) malformed(`tensor "${name}" ends at byte ${end}, past the ${dataLength} bytes of data`);
  const expected = elementCount(shape as number[]) * DTYPES[dtype as DType].bytes;
  if (end - begin !== expected) {
    malformed(`tensor "${name}" has ${end - begin} bytes but dtype ${code} and shape [${shape}] need ${expected}`);
  }
  return { dtype: dtype as DType, shape: shape as number[], begin, end };
}

function malformed(reason: string, cause?: unknown): never {
  throw new LarderError('Unprocessable', `Malformed safetensors file: ${reason}`, { cause });
}
