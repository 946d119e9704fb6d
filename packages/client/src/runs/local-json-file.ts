/**
 * Small JSON files of a run or artifact directory, replaced atomically (write a temporary
 * file, fsync it, rename it over the old one) so a crash leaves the old or the new content,
 * never half of one. Synchronous where a change must be on disk before the call that made
 * it returns (a status, a parameter); the upload record, saved after batches while the
 * training loop runs, is written off the main thread instead.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { open, readFile, rename } from 'node:fs/promises';
import { LarderError } from '@larder/protocol';

let sequence = 0;

export function writeJsonFileSync(path: string, value: unknown): void {
  const temporary = `${path}.${process.pid}.${sequence++}.tmp`;
  const descriptor = openSync(temporary, 'w');
  try {
    writeSync(descriptor, `${JSON.stringify(value, null, 2)}\n`);
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
  renameSync(temporary, path);
}

/** {@link writeJsonFileSync} with the write and fsync on libuv's thread pool, so the event loop never waits on the disk. */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  const temporary = `${path}.${process.pid}.${sequence++}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
}

/** The parsed file; `undefined` when it does not exist; a BadRequest naming it when it is not JSON. */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if (isMissing(cause)) return undefined;
    throw cause;
  }
  return parseJson(path, text);
}

export function readJsonFileSync(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    if (isMissing(cause)) return undefined;
    throw cause;
  }
  return parseJson(path, text);
}

function parseJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new LarderError('BadRequest', `${path} is not valid JSON; restore it or remove the directory`, { cause });
  }
}

export function isMissing(error: unknown): boolean {
  return error !== null && typeof error === 'object' && 'code' in error && error.code === 'ENOENT';
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
