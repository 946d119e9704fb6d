/**
 * The training status machine. A training starts `pending`, may start (`running`), and ends
 * `finished` or `failed`. It never returns to `pending`, a finished or failed training
 * never restarts, a finished one never fails, and only a running one finishes.
 */
import { PmfModelError } from '../errors/pmf-error.js';
import type { TrainingStatus } from '../metadata/pmf-metadata.js';

/** Why moving from `from` to `to` is forbidden, or `null` when it is allowed. */
export function forbiddenTransition(from: TrainingStatus, to: TrainingStatus): string | null {
  if (to === 'pending' && from !== 'pending') return 'a started training cannot go back to pending';
  if (to === 'running' && (from === 'finished' || from === 'failed')) {
    return `a ${from} training cannot be started again`;
  }
  if (to === 'failed' && from === 'finished') return 'a finished training cannot fail';
  if (to === 'finished' && from !== 'running') return `only a running training can finish (it is ${from})`;
  return null;
}

/**
 * Whether the status machine allows moving from `from` to `to`.
 *
 * @example
 * canTransition('running', 'finished'); // true
 * canTransition('finished', 'running'); // false
 */
export function canTransition(from: TrainingStatus, to: TrainingStatus): boolean {
  return forbiddenTransition(from, to) === null;
}

/** Throws `PmfModelError('invalid-training')` for a forbidden transition. */
export function assertTransition(from: TrainingStatus, to: TrainingStatus): void {
  const reason = forbiddenTransition(from, to);
  if (reason) throw new PmfModelError('invalid-training', `Cannot move training from ${from} to ${to}: ${reason}`);
}
