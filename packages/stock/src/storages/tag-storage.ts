/**
 * Experiment values (integers, floats, strings, booleans) that read back with their type.
 *
 * @example
 * await stock.tag.set('epochs', 1000);      // int
 * await stock.tag.set('lr', 1, 'float');    // a float that happens to be whole
 * await stock.tag.typed('lr');              // { type: 'float', value: 1 }
 */
import { LarderError } from '@larder/protocol';
import { assertStockName } from '../stock-names.js';
import type { StockAccess } from './stock-access.js';

export type TagType = 'int' | 'float' | 'string' | 'bool';
export type TagValue = number | bigint | string | boolean;

export interface TypedTag {
  type: TagType;
  value: TagValue;
}

const STORAGE = 'tag';
const TYPES: ReadonlySet<string> = new Set(['int', 'float', 'string', 'bool']);

export class TagStorage {
  readonly #access: StockAccess;

  constructor(access: StockAccess) {
    this.#access = access;
  }

  /**
   * Stages a tag. Without `type`, whole numbers and bigints are ints, other numbers floats.
   * Ints outside the safe integer range read back as bigints.
   */
  async set(key: string, value: TagValue, type?: TagType): Promise<void> {
    assertStockName('tag', key);
    const stored = encodeTag(key, value, type);
    await this.#access.write(async (view) => {
      view.stage(STORAGE, key, await view.objects.putJson('tag', stored));
    });
  }

  async get(key: string): Promise<TagValue> {
    return (await this.typed(key)).value;
  }

  /** The value and the type it was stored with. */
  async typed(key: string): Promise<TypedTag> {
    assertStockName('tag', key);
    return this.#access.read(async (view) => {
      const hash = view.lookup(STORAGE, key);
      if (hash === undefined) throw new LarderError('NotFound', `No tag "${key}" in this stock commit`);
      return decodeTag(await view.objects.getJson('tag', hash), hash);
    });
  }

  async has(key: string): Promise<boolean> {
    assertStockName('tag', key);
    return this.#access.read(async (view) => view.lookup(STORAGE, key) !== undefined);
  }

  /** Stages the removal of a tag; false when there was none. */
  async delete(key: string): Promise<boolean> {
    assertStockName('tag', key);
    return this.#access.write(async (view) => {
      if (view.lookup(STORAGE, key) === undefined) return false;
      view.stage(STORAGE, key, null);
      return true;
    });
  }

  async keys(): Promise<string[]> {
    return this.#access.read(async (view) => view.keys(STORAGE));
  }

  /** Every tag with its type, in key order. */
  async entries(): Promise<[string, TypedTag][]> {
    return this.#access.read(async (view) => {
      const entries: [string, TypedTag][] = [];
      for (const key of view.keys(STORAGE)) {
        const hash = view.lookup(STORAGE, key) as string;
        entries.push([key, decodeTag(await view.objects.getJson('tag', hash), hash)]);
      }
      return entries;
    });
  }
}

interface StoredTag {
  type: TagType;
  /** Text, so that large ints and non-finite floats survive JSON. */
  value: string;
}

function encodeTag(key: string, value: TagValue, type?: TagType): StoredTag {
  const refuse = (why: string): never => {
    throw new LarderError('BadRequest', `Tag "${key}": ${why}`);
  };
  if (type !== undefined && !TYPES.has(type)) refuse(`unknown type "${type}"; use int, float, string or bool`);
  const chosen = type ?? inferType(value);
  if (chosen === undefined) return refuse(`a ${typeof value} cannot be a tag; use a number, bigint, string or boolean`);
  switch (chosen) {
    case 'int':
      if (typeof value === 'bigint') return { type: chosen, value: value.toString() };
      if (typeof value !== 'number' || !Number.isInteger(value)) return refuse(`${String(value)} is not an integer`);
      return { type: chosen, value: BigInt(value).toString() };
    case 'float':
      if (typeof value !== 'number' && typeof value !== 'bigint') return refuse(`${String(value)} is not a number`);
      return { type: chosen, value: String(Number(value)) };
    case 'string':
      if (typeof value !== 'string') return refuse(`${String(value)} is not a string`);
      return { type: chosen, value };
    case 'bool':
      if (typeof value !== 'boolean') return refuse(`${String(value)} is not a boolean`);
      return { type: chosen, value: String(value) };
  }
}

function inferType(value: TagValue): TagType | undefined {
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  return undefined;
}

function decodeTag(stored: unknown, hash: string): TypedTag {
  const { type, value } = (stored ?? {}) as Partial<StoredTag>;
  if (typeof value !== 'string' || typeof type !== 'string' || !TYPES.has(type)) {
    throw new LarderError('Unprocessable', `Stock object ${hash.slice(0, 12)} is not a valid tag`);
  }
  switch (type) {
    case 'int': {
      const big = BigInt(value);
      return { type, value: Number.isSafeInteger(Number(big)) ? Number(big) : big };
    }
    case 'float':
      return { type, value: Number(value) };
    case 'bool':
      return { type, value: value === 'true' };
    default:
      return { type: 'string', value };
  }
}
