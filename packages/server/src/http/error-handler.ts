/**
 * The HTTP edge of the error table: anything thrown becomes a Feathers error JSON body with
 * the matching status. Unexpected errors are logged and answered without internals.
 */
import { errorNameForStatus, LarderError, toLarderError } from '@larder/protocol';
import type { Context, Next } from 'koa';

function fromHttpError(error: unknown): LarderError | undefined {
  const status = (error as { status?: unknown; expose?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = status === 413 ? 'The request body is too large' : (error as Error).message;
    const detail = status === 400 && /JSON|parse|Unexpected/i.test(message) ? `Invalid JSON body: ${message}` : message;
    return new LarderError(errorNameForStatus(status), detail, { cause: error });
  }
  return undefined;
}

export function errorHandler(log: (message: string) => void) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
      if (ctx.body === undefined && ctx.status === 404) {
        throw new LarderError('NotFound', `Path ${ctx.path} not found`);
      }
    } catch (thrown) {
      let error = fromHttpError(thrown) ?? toLarderError(thrown);
      if (error.code >= 500) {
        const cause = error.cause ?? thrown;
        log(
          `error: ${ctx.method} ${ctx.path}: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`,
        );
        if (!(thrown instanceof LarderError)) error = new LarderError('GeneralError', 'Internal server error');
      }
      ctx.status = error.code;
      ctx.body = error.toJSON();
    }
  };
}
