/**
 * What a client may hear of anything thrown, on every transport (the Koa edge, the service
 * error hook, socket acknowledgements): Larder's error JSON, never a stack trace, a driver
 * message or a server path. Client errors (4xx) and deliberate unavailability keep their
 * sentence; anything unexpected becomes "Internal server error" and is flagged for the log.
 *
 * @example
 * const { error, unexpected } = publicError(new TypeError('x is undefined'));
 * error.toJSON(); // { name: 'GeneralError', message: 'Internal server error', code: 500, … }
 */
import { errorNameForStatus, LarderError, toLarderError } from '@larder/protocol';

export interface PublicError {
  error: LarderError;
  /** True when the answer hides what happened: the original belongs in the log. */
  unexpected: boolean;
}

const GENERIC = 'Internal server error';

/** Koa's and the body parser's own errors (`http-errors`): a status and a message meant for clients. */
function fromHttpError(thrown: unknown): LarderError | undefined {
  if (thrown instanceof LarderError || thrown === null || typeof thrown !== 'object') return undefined;
  const { status } = thrown as { status?: unknown };
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  const message = status === 413 ? 'The request body is too large' : String((thrown as Error).message);
  const detail = status === 400 && /JSON|parse|Unexpected/i.test(message) ? `Invalid JSON body: ${message}` : message;
  return new LarderError(errorNameForStatus(status), detail, { cause: thrown });
}

export function publicError(thrown: unknown): PublicError {
  const http = fromHttpError(thrown);
  if (http) return { error: http, unexpected: false };
  const error = toLarderError(thrown);
  if (error.code < 500) return { error, unexpected: false };
  // Already made generic by an inner edge (the service error hook), which logged the original.
  const original = thrown instanceof LarderError ? thrown.cause : thrown;
  if (error.name === 'GeneralError' && error.message === GENERIC && stackOf(original) === undefined) {
    return { error: new LarderError('GeneralError', GENERIC), unexpected: false };
  }
  // A deliberate 5xx other than the catch-all (Unavailable: "try again shortly") is a sentence
  // for the client: thrown as a LarderError, or already its JSON (a socket acknowledgement).
  const deliberate =
    thrown instanceof LarderError || (thrown !== null && typeof thrown === 'object' && !(thrown instanceof Error));
  if (deliberate && error.name !== 'GeneralError') return { error, unexpected: false };
  return { error: new LarderError('GeneralError', GENERIC), unexpected: true };
}

function stackOf(value: unknown): string | undefined {
  const stack = (value as { stack?: unknown } | null)?.stack;
  return typeof stack === 'string' ? stack : undefined;
}

/** The original of an unexpected error, for the log line. */
export function describeForLog(thrown: unknown): string {
  const cause = thrown instanceof LarderError && thrown.cause !== undefined ? thrown.cause : thrown;
  if (cause instanceof Error) return cause.stack ?? cause.message;
  return stackOf(cause) ?? JSON.stringify(cause) ?? String(cause);
}
