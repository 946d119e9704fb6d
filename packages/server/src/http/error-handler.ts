/**
 * The HTTP edge of the error table: anything thrown becomes a Feathers error JSON body with
 * the matching status. Unexpected errors are logged and answered without internals.
 */
import { LarderError } from '@larder/protocol';
import type { Context, Next } from 'koa';
import { describeForLog, publicError } from './public-error.js';

export function errorHandler(log: (message: string) => void) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
      if (ctx.body === undefined && ctx.status === 404) {
        throw new LarderError('NotFound', `Path ${ctx.path.slice(0, 200)} not found`);
      }
    } catch (thrown) {
      const { error, unexpected } = publicError(thrown);
      if (unexpected || (error.code >= 500 && error.cause !== undefined))
        log(`error: ${ctx.method} ${ctx.path}: ${describeForLog(thrown)}`);
      ctx.status = error.code;
      ctx.body = error.toJSON();
    }
  };
}
