/**
 * Percent-decoding of one URL path segment for the Koa file routes (run files, artifacts,
 * assets, model files, stock, blobs) and Feathers' route parameters: malformed encoding
 * (`%ZZ`, a lone `%`, bytes that are not UTF-8) is the client's mistake, answered 400.
 *
 * @example
 * decodePathSegment('run%3A1'); // 'run:1'
 * decodePathSegment('%ZZ');     // throws LarderError BadRequest
 */
import { LarderError } from '@larder/protocol';

export function decodePathSegment(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch (error) {
    throw new LarderError(
      'BadRequest',
      `The path segment "${segment.slice(0, 80)}" is not valid percent-encoding; encode it with encodeURIComponent`,
      { cause: error },
    );
  }
}
