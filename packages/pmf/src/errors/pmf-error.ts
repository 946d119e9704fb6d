/**
 * The base of every error this package throws, with a code table so callers can branch on
 * `error.code` instead of parsing messages. The class tree mirrors the plums reference:
 * `PmfError` ← `PmfModelError`, and `PmfError` ← `PmfValidationError` ← tree / metadata
 * validation errors, which also count as model errors (see `PmfModelError`).
 */

/** Every error code, with the kind of problem it names. */
export const PMF_ERROR_CODES = {
  'invalid-tree': 'the directory is not a valid PMF tree',
  'invalid-metadata': 'metadata.yaml does not describe a valid PMF model',
  'not-found': 'a file or directory the operation needs does not exist',
  'destination-is-file': 'the save destination is a file',
  'destination-not-empty': 'the save destination is a non-empty directory that is not a PMF model',
  'destination-model-exists': 'the save destination holds a PMF model with the same id',
  'destination-different-model': 'the save destination holds a PMF model with a different id',
  'destination-invalid-metadata': 'the save destination holds an unreadable metadata.yaml',
  'invalid-initialisation': 'the initialisation arguments do not fit the initialisation found',
  'invalid-training': 'the training state or transition breaks the PMF training rules',
  'invalid-checkpoint': 'a checkpoint is malformed or clashes with another one',
  'invalid-producer': 'the producer name, version or configuration is not usable',
  'invalid-build-parameters': 'the build parameters are not a mapping',
  'unknown-version-format': 'no version format is registered under that name',
  'invalid-version': 'a version string does not follow its format',
} as const;

export type PmfErrorCode = keyof typeof PMF_ERROR_CODES;

/**
 * Base error of `@larder/pmf`.
 *
 * @example
 * try {
 *   await model.save(dir);
 * } catch (error) {
 *   if (error instanceof PmfError && error.code === 'destination-model-exists') await model.save(dir, { force: true });
 *   else throw error;
 * }
 */
export class PmfError extends Error {
  override name = 'PmfError';
  readonly code: PmfErrorCode;

  constructor(code: PmfErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * Errors about a model: saving, loading, initialisation, training and checkpoints. Tree and
 * metadata validation errors are model errors too, as in plums where they inherit from both
 * the validation and the model base; `instanceof PmfModelError` is true for them.
 */
export class PmfModelError extends PmfError {
  override name = 'PmfModelError';

  // `this` is the class `instanceof` was used with: subclasses keep the ordinary check.
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: the ordinary check must run against the class being tested
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    // biome-ignore lint/complexity/noThisInStatic: only PmfModelError itself, not a subclass, widens its instances
    return this === PmfModelError && value instanceof PmfError && isModelValidationCode(value.code);
  }
}

function isModelValidationCode(code: PmfErrorCode): boolean {
  return code === 'invalid-tree' || code === 'invalid-metadata';
}
