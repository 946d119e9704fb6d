/** An assertion for tests: a promise rejects with a LarderError of a given name. */
import { type ErrorName, LarderError } from '@larder/protocol';
import { expect } from 'vitest';

/** Awaits a rejection and checks it is a LarderError with the given name. */
export async function expectLarderError(promise: Promise<unknown>, name: ErrorName): Promise<LarderError> {
  const outcome = await promise.then(
    (value: unknown) => ({ rejected: false as const, value }),
    (error: unknown) => ({ rejected: true as const, error }),
  );
  if (!outcome.rejected)
    throw new Error(`Expected a ${name} LarderError, but it resolved with ${String(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(LarderError);
  expect(outcome.error).toMatchObject({ name });
  return outcome.error as LarderError;
}
