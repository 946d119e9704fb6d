/**
 * Rules for the names users give models, data columns, samples and tags. Names never become
 * file paths, but they travel to servers and into safetensors files, so anything that looks
 * like a path or hides characters is refused.
 */
import { LarderError } from '@larder/protocol';

export type NameRole = 'model' | 'column' | 'sample' | 'tag' | 'tensor';

const MAX_LENGTH = 255;

/** Throws a BadRequest saying what to change unless `name` can name a `role`. */
export function assertStockName(role: NameRole, name: unknown): asserts name is string {
  // The common case in one native test: this runs for every sample written or read.
  if (typeof name === 'string' && role !== 'tensor' && PLAIN_NAME.test(name) && isPlainName(name)) return;
  if (typeof name !== 'string' || name.length === 0) {
    throw new LarderError('BadRequest', `A ${role} name must be a non-empty string`);
  }
  // Only a refusal quotes the name: this runs for every sample written or read.
  const shown = (): string => JSON.stringify(name.slice(0, 80));
  if (name.length > MAX_LENGTH) {
    throw new LarderError('BadRequest', `The ${role} name ${shown()}… is longer than ${MAX_LENGTH} characters`);
  }
  if (name === '__proto__') throw new LarderError('BadRequest', `"__proto__" cannot name a ${role}`);
  if (hasControlCharacter(name))
    throw new LarderError('BadRequest', `The ${role} name ${shown()} contains control characters`);
  // Tensor names inside a model follow their framework (tfjs uses "dense/kernel").
  if (role === 'tensor') return;
  if (name === '.' || name === '..') {
    throw new LarderError('BadRequest', `${shown()} cannot name a ${role}: "." and ".." are reserved`);
  }
  if (name.includes('/') || name.includes('\\')) {
    throw new LarderError(
      'BadRequest',
      `The ${role} name ${shown()} contains a path separator ("/" or "\\"): remove it`,
    );
  }
  if (name.trim() !== name) {
    throw new LarderError('BadRequest', `The ${role} name ${shown()} starts or ends with white space`);
  }
}

/**
 * 1-255 characters, none of them a control character (below 0x20, or 0x7f) or a path
 * separator ("/" 0x2f, "\\" 0x5c): what every role accepts, white space at the ends aside.
 */
const PLAIN_NAME = /^[ -.0-[\]-~\u0080-\uffff]{1,255}$/;

/** The rules PLAIN_NAME leaves: no white space at the ends, and no reserved name. */
function isPlainName(name: string): boolean {
  return name.trim() === name && name !== '.' && name !== '..' && name !== '__proto__';
}

function hasControlCharacter(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
