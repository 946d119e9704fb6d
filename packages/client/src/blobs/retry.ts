/**
 * Retrying transfers: network failures, timeouts, 429 and 5xx answers are tried again with
 * exponential back-off; a 4xx answer is the caller's mistake and fails at once.
 */
import { LarderError } from '@larder/protocol';

export interface RetryOptions {
  /** Attempts in all, the first included (default 8). */
  attempts?: number;
  /** First pause in milliseconds, doubled each time up to 5 s (default 200). */
  firstDelayMs?: number;
}

export function isRetryable(error: unknown): boolean {
  if (error instanceof LarderError) return error.code === 408 || error.code === 429 || error.code >= 500;
  // A body stream that broke mid-way surfaces from fetch as a TypeError or an abort.
  return error instanceof Error && (error.name === 'TypeError' || /abort|timeout/i.test(error.name));
}

export async function withRetries<T>(work: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 8;
  let delay = options.firstDelayMs ?? 200;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work(attempt);
    } catch (error) {
      if (attempt >= attempts || !isRetryable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
}
