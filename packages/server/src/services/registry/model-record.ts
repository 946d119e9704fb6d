/**
 * The shape of a registry model: Picsellia's network fields (name, type, framework, tags,
 * description, private, labels, base parameters, readme, named files), MLflow's key-value
 * tags (`mlflowTags`, set through the MLflow face) plus what the server
 * keeps (aliases, the version counter, `public`). The checkers below are the one source of
 * that shape: `ModelFields` is derived from them.
 */

import type { JsonValue } from '@larder/protocol';
import { LarderError } from '@larder/protocol';
import { isSha256 } from '../../blobs/blob-store.js';
import type { StoredDocument } from '../../stores/document-store.js';
import { mlflowTags } from './mlflow-version-record.js';
import { assertAlias, assertFileName, assertModelName } from './registry-names.js';

export const MODELS_COLLECTION = 'models';

/** A named file of a model (Picsellia `files`: `config`, `model-latest`…). */
export interface ModelFile {
  sha256: string;
  size: number;
  /** The file's own name, used when it is downloaded. */
  filename: string;
}

type Checker<T> = (value: unknown, field: string) => T;

const text =
  (max: number): Checker<string> =>
  (value, field) => {
    if (typeof value !== 'string') throw invalid(field, 'must be a string');
    if (value.length > max) throw invalid(field, `must be at most ${max} characters`);
    return value;
  };

const flag: Checker<boolean> = (value, field) => {
  if (typeof value !== 'boolean') throw invalid(field, 'must be true or false');
  return value;
};

const tags: Checker<string[]> = (value, field) => {
  if (!Array.isArray(value) || value.length > 256) throw invalid(field, 'must be a list of at most 256 strings');
  return value.map((tag, index) => text(128)(tag, `${field}[${index}]`));
};

const labels: Checker<Record<string, string>> = (value, field) => {
  const entries = objectEntries(value, field, 100_000);
  return Object.fromEntries(entries.map(([key, label]) => [key, text(256)(label, `${field}.${key}`)]));
};

const jsonObject: Checker<Record<string, JsonValue>> = (value, field) => {
  objectEntries(value, field, 10_000);
  return value as Record<string, JsonValue>;
};

const files: Checker<Record<string, ModelFile>> = (value, field) => {
  const entries = objectEntries(value, field, 1000);
  const kept: [string, ModelFile][] = [];
  for (const [name, file] of entries) {
    if (file === null) continue; // a patch removing the file
    assertFileName(name);
    kept.push([name, modelFile(file, `${field}.${name}`)]);
  }
  return Object.fromEntries(kept);
};

/** The fields clients write, each with its checker. */
const EDITABLE = {
  name: ((value) => {
    assertModelName(value);
    return value;
  }) as Checker<string>,
  type: text(64),
  framework: text(64),
  tags,
  description: text(10_000),
  private: flag,
  labels,
  baseParameters: jsonObject,
  readme: text(1_000_000),
  files,
  /** MLflow's key-value tags of a registered model (Picsellia's `tags` are a list of words). */
  mlflowTags: mlflowTags as Checker<Record<string, string>>,
} satisfies Record<string, Checker<unknown>>;

export type ModelFields = { [K in keyof typeof EDITABLE]: ReturnType<(typeof EDITABLE)[K]> };

export interface ModelRecord extends ModelFields {
  _id: string;
  userId?: string;
  /** Kept equal to `!private`: what the ownership policy reads. */
  public: boolean;
  /** Alias name → version number. */
  aliases: Record<string, number>;
  /** How many version numbers were handed out (numbers are never reused). */
  versionCount: number;
  createdAt: string;
  updatedAt: string;
}

const DEFAULTS: Omit<ModelFields, 'name'> = {
  type: '',
  framework: '',
  tags: [],
  description: '',
  private: true,
  labels: {},
  baseParameters: {},
  readme: '',
  files: {},
  mlflowTags: {},
};

const SERVER_FIELDS = new Set(['_id', 'userId', 'public', 'aliases', 'versionCount', 'createdAt', 'updatedAt']);

/**
 * A model record as it will be stored: defaults filled, every field checked, `public` in
 * step with `private`, server fields taken from `before` (or fresh for a new model).
 */
export function normalizeModel(record: StoredDocument, before: StoredDocument | undefined): StoredDocument {
  for (const key of Object.keys(record)) {
    if (!(key in EDITABLE) && !SERVER_FIELDS.has(key)) {
      throw new LarderError(
        'BadRequest',
        `Models have no field "${key.slice(0, 60)}": use ${Object.keys(EDITABLE).join(', ')}`,
      );
    }
  }
  const result: Record<string, unknown> = { ...record };
  for (const [field, check] of Object.entries(EDITABLE)) {
    const value = record[field] ?? (DEFAULTS as Record<string, unknown>)[field];
    result[field] = (check as Checker<unknown>)(value, field);
  }
  result.public = !result.private;
  result.versionCount = before ? (before.versionCount ?? 0) : 0;
  result.aliases = aliases(record.aliases ?? before?.aliases ?? {});
  return result as StoredDocument;
}

function aliases(value: unknown): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [alias, version] of objectEntries(value, 'aliases', 1000)) {
    if (version === null) continue; // a patch removing the alias
    assertAlias(alias);
    if (!Number.isSafeInteger(version) || (version as number) < 1) {
      throw invalid(`aliases.${alias}`, 'must be a version number');
    }
    result[alias] = version as number;
  }
  return result;
}

export function modelFile(value: unknown, field: string): ModelFile {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(field, 'must be { sha256, size, filename } as the blob upload answered');
  }
  const { sha256, size, filename } = value as Record<string, unknown>;
  if (!isSha256(sha256)) throw invalid(`${field}.sha256`, 'must be 64 lower-case hex digits');
  if (!Number.isSafeInteger(size) || (size as number) < 0) throw invalid(`${field}.size`, 'must be a byte count');
  const name = text(255)(filename ?? '', `${field}.filename`);
  return { sha256, size: size as number, filename: name };
}

function objectEntries(value: unknown, field: string, max: number): [string, unknown][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(field, 'must be an object');
  const entries = Object.entries(value);
  if (entries.length > max) throw invalid(field, `must have at most ${max} entries`);
  return entries;
}

function invalid(field: string, message: string): LarderError {
  return new LarderError('BadRequest', `Model field "${field}" ${message}`);
}
