/** PostgreSQL driver errors as LarderErrors: what a client should hear, the original kept as `cause`. */
import { LarderError } from '@larder/protocol';

/** Driver errors become LarderErrors, the original kept as `cause`. */
export function translateError(error: unknown): LarderError {
  if (error instanceof LarderError) return error;
  const code = (error as { code?: string }).code;
  if (code === '23505') return new LarderError('Conflict', 'A record with this id already exists', { cause: error });
  if (code === '22P05' || code === '22021') {
    return new LarderError('BadRequest', 'PostgreSQL cannot store this text (it holds a NUL character)', {
      cause: error,
    });
  }
  if (code === '28P01' || code === '28000') {
    return new LarderError('Unavailable', 'PostgreSQL refused the user name or password', { cause: error });
  }
  if (code === '3D000')
    return new LarderError('Unavailable', 'That PostgreSQL database does not exist', { cause: error });
  if (
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'ETIMEDOUT' ||
    code === '57P01' ||
    code === '57P03' ||
    code === '08006' ||
    code === '08001'
  ) {
    return new LarderError('Unavailable', 'The metadata database is unreachable; try again shortly', { cause: error });
  }
  const message = error instanceof Error ? error.message : '';
  if (
    /Connection terminated|connection timeout|ECONNREFUSED|ECONNRESET|Client has encountered a connection error/i.test(
      message,
    )
  ) {
    return new LarderError('Unavailable', 'The metadata database is unreachable; try again shortly', { cause: error });
  }
  return new LarderError('GeneralError', 'The metadata store failed', { cause: error });
}
