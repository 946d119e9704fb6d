/**
 * A run's own field check. Larder gives meaning to the statuses `Running`, `Complete`,
 * `Failed` and `Interrupted`; other strings (Marcelle's `epoch`…) are kept as written.
 */
import { LarderError } from '@larder/protocol';

export function assertStatus(value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || value.length > 64)
    throw new LarderError('BadRequest', '"status" must be a short string');
}
