/**
 * Appending to a `line` data log: Picsellia's `log` of scalars adds points to the curve
 * already stored under that name instead of replacing it.
 */
import { LarderError } from '@larder/protocol';
import type { DataLogShapes, LogInputs } from './experiment-types.js';

type Line = DataLogShapes['line'];

/** `existing` plus the points of `input`; bare scalars continue the step count. */
export function appendToLine(name: string, existing: Line | undefined, input: LogInputs['line']): Line {
  const steps = [...(existing?.steps ?? [])];
  const values = [...(existing?.values ?? [])];
  let next = steps.length > 0 ? (steps[steps.length - 1] as number) + 1 : 0;
  if (typeof input === 'number' || Array.isArray(input)) {
    for (const value of typeof input === 'number' ? [input] : input) {
      steps.push(next);
      values.push(value);
      next += 1;
    }
    return { steps, values };
  }
  if (input === null || typeof input !== 'object' || !Array.isArray(input.values)) {
    throw new LarderError(
      'BadRequest',
      `Log "${name}" as a line with a number, a list of numbers or { steps, values }`,
    );
  }
  const given = input.steps ?? input.values.map((_, index) => next + index);
  if (given.length !== input.values.length) {
    throw new LarderError(
      'BadRequest',
      `Line "${name}": ${given.length} steps for ${input.values.length} values; give one step per value`,
    );
  }
  return { steps: [...steps, ...given], values: [...values, ...input.values] };
}
