/**
 * Where the filesystem adapter meets `node:fs`: error codes read safely, and unexpected
 * filesystem failures turned into LarderErrors that keep the original as `cause`.
 */
import { LarderError } from '@larder/protocol';

/** The `code` of a Node system error (`ENOENT`, `EEXIST`, ...), or undefined. */
export function errorCode(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object' || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/** Passes LarderErrors through; anything else becomes a GeneralError naming what failed. */
export function toStoreError(error: unknown, action: string): LarderError {
  if (error instanceof LarderError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new LarderError('GeneralError', `The filesystem blob store could not ${action}: ${reason}`, { cause: error });
}
