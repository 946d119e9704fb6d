/**
 * MLflow's error wire format at the edge of the MLflow face: `{ error_code, message }` with
 * MLflow's codes and the HTTP statuses its server gives them (the Python client branches on
 * the code, e.g. `RESOURCE_DOES_NOT_EXIST`). Larder errors thrown by the services underneath
 * are translated here, in one table.
 */
import { type ErrorName, toLarderError } from '@larder/protocol';

/** MLflow error codes and their HTTP statuses (`mlflow/protos/databricks.proto`, handlers.py). */
export const MLFLOW_ERROR_STATUS = {
  INVALID_PARAMETER_VALUE: 400,
  BAD_REQUEST: 400,
  MALFORMED_REQUEST: 400,
  INVALID_STATE: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  RESOURCE_LIMIT_EXCEEDED: 429,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  RESOURCE_DOES_NOT_EXIST: 404,
  ENDPOINT_NOT_FOUND: 404,
  NOT_IMPLEMENTED: 501,
  TEMPORARILY_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
} as const;

export type MlflowErrorCode = keyof typeof MLFLOW_ERROR_STATUS;

export class MlflowError extends Error {
  readonly status: number;

  constructor(
    readonly errorCode: MlflowErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = MLFLOW_ERROR_STATUS[errorCode];
  }

  toJSON(): { error_code: MlflowErrorCode; message: string } {
    return { error_code: this.errorCode, message: this.message };
  }
}

const FROM_LARDER: Partial<Record<ErrorName, MlflowErrorCode>> = {
  BadRequest: 'INVALID_PARAMETER_VALUE',
  NotAuthenticated: 'UNAUTHENTICATED',
  Forbidden: 'PERMISSION_DENIED',
  NotFound: 'RESOURCE_DOES_NOT_EXIST',
  MethodNotAllowed: 'ENDPOINT_NOT_FOUND',
  Conflict: 'RESOURCE_ALREADY_EXISTS',
  PayloadTooLarge: 'INVALID_PARAMETER_VALUE',
  Unprocessable: 'INVALID_PARAMETER_VALUE',
  TooManyRequests: 'RESOURCE_LIMIT_EXCEEDED',
  Unavailable: 'TEMPORARILY_UNAVAILABLE',
  NotImplemented: 'NOT_IMPLEMENTED',
};

/** Anything thrown, as an MLflow error; unexpected errors become INTERNAL_ERROR, cause kept. */
export function toMlflowError(thrown: unknown): MlflowError {
  if (thrown instanceof MlflowError) return thrown;
  const larder = toLarderError(thrown);
  const code = FROM_LARDER[larder.name];
  if (code) return new MlflowError(code, larder.message, { cause: thrown });
  return new MlflowError('INTERNAL_ERROR', 'Internal server error', { cause: thrown });
}
