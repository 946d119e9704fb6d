/**
 * What `run.logImage` and `run.logHistogram` check before anything is queued: a name, a
 * finite step, a caption of reasonable length, and the image or values themselves. Mistakes
 * throw at the call, with a sentence, so a training loop finds them on its first step.
 */
import { LarderError } from '@larder/protocol';
import { computeHistogram, DEFAULT_BINS, type NumericValues } from './histogram.js';
import { type ImageInput, readImageInput } from './image-input.js';
import type { MediaLogWriter } from './media-log-writer.js';

export interface LogImageOptions {
  step: number;
  caption?: string;
}

export interface LogHistogramOptions {
  step: number;
  /** Equal-width buckets between the smallest and largest value. Default 64. */
  bins?: number;
}

export const MAX_MEDIA_NAME = 200;
export const MAX_CAPTION = 1000;

function assertName(call: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_MEDIA_NAME) {
    throw new LarderError('BadRequest', `${call} needs a name of 1 to ${MAX_MEDIA_NAME} characters`);
  }
}

function assertStep(call: string, options: { step?: unknown } | undefined): number {
  const step = options?.step;
  if (typeof step !== 'number' || !Number.isFinite(step)) {
    throw new LarderError('BadRequest', `${call} needs { step } as a finite number, not ${String(step)}`);
  }
  return step;
}

export function logImageTo(writer: MediaLogWriter, name: string, image: ImageInput, options: LogImageOptions): void {
  assertName('logImage', name);
  const step = assertStep('logImage', options);
  const caption = options.caption;
  if (caption !== undefined && (typeof caption !== 'string' || caption.length > MAX_CAPTION)) {
    throw new LarderError('BadRequest', `logImage: a caption is a string of at most ${MAX_CAPTION} characters`);
  }
  writer.addImage({ name, step, ...(caption === undefined ? {} : { caption }) }, readImageInput(image));
}

export function logHistogramTo(
  writer: MediaLogWriter,
  name: string,
  values: NumericValues,
  options: LogHistogramOptions,
): void {
  assertName('logHistogram', name);
  const step = assertStep('logHistogram', options);
  writer.addHistogram({ name, step }, computeHistogram(values, options.bins ?? DEFAULT_BINS));
}
