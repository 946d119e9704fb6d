/**
 * User mistakes end the CLI with one clear sentence and a non-zero exit, never a stack
 * trace. Errors from the server carry their own message.
 */
import { LarderError } from '@larder/protocol';

export class CliError extends Error {}

/** The sentence to print for anything thrown by a command. */
export function describeFailure(error: unknown): string {
  if (error instanceof CliError) return error.message;
  if (error instanceof LarderError) {
    if (error.name === 'NotAuthenticated') return `${error.message}. Run "larder login" first.`;
    return error.message;
  }
  if (error instanceof Error && process.env.LARDER_DEBUG) return error.stack ?? error.message;
  if (error instanceof Error) return `Unexpected failure: ${error.message} (set LARDER_DEBUG=1 for details)`;
  return String(error);
}
