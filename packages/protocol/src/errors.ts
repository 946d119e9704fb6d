/**
 * One error type for all of Larder, with a code table mapped to HTTP statuses and to the
 * Feathers error wire format (`{ name, message, code, className, data?, errors? }`).
 *
 * @example
 * throw new LarderError('BadRequest', 'Unknown query operator $regex on field "name"');
 */

/** Feathers error names and their HTTP status codes. */
export const ERROR_CODES = {
  BadRequest: 400,
  NotAuthenticated: 401,
  PaymentError: 402,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  Timeout: 408,
  Conflict: 409,
  Gone: 410,
  LengthRequired: 411,
  PayloadTooLarge: 413,
  Unprocessable: 422,
  TooManyRequests: 429,
  GeneralError: 500,
  NotImplemented: 501,
  BadGateway: 502,
  Unavailable: 503,
} as const;

export type ErrorName = keyof typeof ERROR_CODES;

/** The JSON body Feathers servers send for an error. */
export interface ErrorJson {
  name: string;
  message: string;
  code: number;
  className: string;
  data?: unknown;
  errors?: unknown;
}

const CLASS_NAMES: Record<ErrorName, string> = {
  BadRequest: 'bad-request',
  NotAuthenticated: 'not-authenticated',
  PaymentError: 'payment-error',
  Forbidden: 'forbidden',
  NotFound: 'not-found',
  MethodNotAllowed: 'method-not-allowed',
  NotAcceptable: 'not-acceptable',
  Timeout: 'timeout',
  Conflict: 'conflict',
  Gone: 'gone',
  LengthRequired: 'length-required',
  PayloadTooLarge: 'payload-too-large',
  Unprocessable: 'unprocessable',
  TooManyRequests: 'too-many-requests',
  GeneralError: 'general-error',
  NotImplemented: 'not-implemented',
  BadGateway: 'bad-gateway',
  Unavailable: 'unavailable',
};

export interface LarderErrorOptions {
  data?: unknown;
  errors?: unknown;
  cause?: unknown;
}

export class LarderError extends Error {
  /** Lets Feathers' transports recognise this as one of theirs. */
  readonly type = 'FeathersError';
  override readonly name: ErrorName;
  readonly code: number;
  readonly className: string;
  readonly data: unknown;
  readonly errors: unknown;

  constructor(name: ErrorName, message: string, options: LarderErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = name;
    this.code = ERROR_CODES[name];
    this.className = CLASS_NAMES[name];
    this.data = options.data;
    this.errors = options.errors;
  }

  toJSON(): ErrorJson {
    const json: ErrorJson = {
      name: this.name,
      message: this.message,
      code: this.code,
      className: this.className,
    };
    if (this.data !== undefined) json.data = this.data;
    if (this.errors !== undefined) json.errors = this.errors;
    return json;
  }
}

/** The error name for an HTTP status, `GeneralError` when the table has none. */
export function errorNameForStatus(status: number): ErrorName {
  for (const [name, code] of Object.entries(ERROR_CODES)) {
    if (code === status) return name as ErrorName;
  }
  return status >= 400 && status < 500 ? 'BadRequest' : 'GeneralError';
}

function isErrorName(value: unknown): value is ErrorName {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/**
 * Turns anything thrown into a LarderError. Errors that already carry a Feathers name or an
 * HTTP status keep them; anything else becomes a 500 with the original kept as `cause`.
 */
export function toLarderError(thrown: unknown): LarderError {
  if (thrown instanceof LarderError) return thrown;
  if (thrown !== null && typeof thrown === 'object') {
    const candidate = thrown as { name?: unknown; code?: unknown; message?: unknown; data?: unknown; errors?: unknown };
    const message = typeof candidate.message === 'string' ? candidate.message : 'Unexpected error';
    if (isErrorName(candidate.name)) {
      return new LarderError(candidate.name, message, {
        data: candidate.data,
        errors: candidate.errors,
        cause: thrown,
      });
    }
    if (typeof candidate.code === 'number' && candidate.code >= 400 && candidate.code < 600) {
      return new LarderError(errorNameForStatus(candidate.code), message, { data: candidate.data, cause: thrown });
    }
    return new LarderError('GeneralError', message, { cause: thrown });
  }
  return new LarderError('GeneralError', String(thrown), { cause: thrown });
}
