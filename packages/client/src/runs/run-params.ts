/**
 * A run's hyperparameters: a mapping read and written like an object (`params.lr`,
 * `params['batch_size'] = 32`) through a Proxy, or all at once with `update`. Every change
 * is handed to a callback (which records it on disk and schedules an upload). Values are
 * JSON values; stored objects and arrays are frozen copies, so changing one in place throws
 * instead of being silently lost: assign a new value instead.
 */
import type { JsonValue } from '@larder/protocol';
import { LarderError } from '@larder/protocol';

export type ParamValue = JsonValue;

export interface ParamsMethods {
  /**
   * Merges `values` in. With `override: false`, keys that already have a value keep it.
   *
   * @example
   * run.params.update({ batch_size: 32, epochs: 10 });
   * run.params.update({ epochs: 99 }, { override: false }); // epochs stays 10
   */
  update(values: Readonly<Record<string, ParamValue>>, options?: { override?: boolean }): void;
  /** The value of `key`, also for keys that share a name with these methods. */
  get(key: string): ParamValue | undefined;
  /** Removes `key`. */
  delete(key: string): boolean;
  /** A plain copy of every parameter. */
  toJSON(): Record<string, ParamValue>;
  keys(): string[];
}

/** What `run.params` is: the parameters as properties, plus {@link ParamsMethods}. */
export type RunParams = ParamsMethods & { [key: string]: ParamValue | undefined };

const METHOD_NAMES: ReadonlySet<string> = new Set(['update', 'get', 'delete', 'toJSON', 'keys']);

/**
 * Makes the params object over `initial`; `onChange` receives the whole new mapping after
 * each change.
 */
export function createRunParams(
  initial: Readonly<Record<string, ParamValue>>,
  onChange: (params: Record<string, ParamValue>) => void,
): RunParams {
  const values: Record<string, ParamValue> = Object.create(null);
  for (const [key, value] of Object.entries(initial)) values[key] = frozenCopy(key, value);
  const snapshot = () => ({ ...values });
  const methods: ParamsMethods = {
    update(changes, options = {}) {
      const override = options.override ?? true;
      let changed = false;
      for (const [key, value] of Object.entries(changes)) {
        if (!override && Object.hasOwn(values, key)) continue;
        values[key] = frozenCopy(key, value);
        changed = true;
      }
      if (changed) onChange(snapshot());
    },
    get: (key) => values[key],
    delete(key) {
      if (!Object.hasOwn(values, key)) return false;
      delete values[key];
      onChange(snapshot());
      return true;
    },
    toJSON: snapshot,
    keys: () => Object.keys(values),
  };
  return new Proxy(values, {
    get(target, key) {
      if (typeof key === 'symbol') return undefined;
      if (METHOD_NAMES.has(key)) return methods[key as keyof ParamsMethods];
      return target[key];
    },
    set(_target, key, value) {
      if (typeof key === 'symbol' || METHOD_NAMES.has(key)) {
        throw new LarderError(
          'BadRequest',
          `"${String(key)}" is a method of run.params; set it with run.params.update({ ${String(key)}: … })`,
        );
      }
      methods.update({ [key]: value as ParamValue });
      return true;
    },
    deleteProperty(_target, key) {
      if (typeof key === 'string') methods.delete(key);
      return true;
    },
    has: (target, key) => typeof key === 'string' && Object.hasOwn(target, key),
  }) as unknown as RunParams;
}

/** A deep-frozen copy of a JSON value; a BadRequest naming the key for anything else. */
function frozenCopy(key: string, value: unknown): ParamValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    throw invalid(key, `the number ${value} (JSON has no NaN or Infinity)`);
  }
  if (Array.isArray(value)) {
    const copy = value.map((each, index) => frozenCopy(`${key}[${index}]`, each));
    Object.freeze(copy);
    return copy;
  }
  if (typeof value === 'object' && isPlain(value)) {
    const copy: Record<string, ParamValue> = {};
    for (const [inner, each] of Object.entries(value)) copy[inner] = frozenCopy(`${key}.${inner}`, each);
    Object.freeze(copy);
    return copy;
  }
  throw invalid(key, `a ${value === undefined ? 'undefined value' : typeof value}`);
}

function isPlain(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function invalid(key: string, what: string): LarderError {
  return new LarderError(
    'BadRequest',
    `Parameter "${key}" is ${what}; parameters are strings, finite numbers, booleans, null, arrays or plain objects`,
  );
}
