/**
 * Slows password guessing: after too many failed sign-ins for one email from one address
 * within a window, further attempts from that address are refused (429) until the window
 * passes. Keyed by address as well as email, so that nobody can lock an account out from
 * elsewhere. API keys are the way for scripts; they are not throttled here.
 */
import type { HookContext, NextFunction } from '@feathersjs/feathers';
import { LarderError } from '@larder/protocol';

export interface SignInThrottleOptions {
  maxFailures?: number;
  windowMs?: number;
  now?: () => number;
}

interface Failures {
  count: number;
  since: number;
}

export function signInThrottle(options: SignInThrottleOptions = {}) {
  const maxFailures = options.maxFailures ?? 10;
  const windowMs = options.windowMs ?? 15 * 60_000;
  const now = options.now ?? Date.now;
  const failures = new Map<string, Failures>();

  const keyOf = (context: HookContext): string | undefined => {
    const data = context.data as { strategy?: unknown; email?: unknown } | undefined;
    if (data?.strategy !== 'local' || typeof data.email !== 'string') return undefined;
    const address = (context.params as { ip?: string }).ip ?? 'unknown';
    return `${data.email.toLowerCase()}\u0000${address}`;
  };

  return async (context: HookContext, next: NextFunction): Promise<void> => {
    const key = context.method === 'create' ? keyOf(context) : undefined;
    if (!key) return next();
    const entry = failures.get(key);
    if (entry && now() - entry.since > windowMs) failures.delete(key);
    const current = failures.get(key);
    if (current && current.count >= maxFailures) {
      const minutes = Math.ceil((windowMs - (now() - current.since)) / 60_000);
      throw new LarderError(
        'TooManyRequests',
        `Too many failed sign-ins for this account from your address; try again in ${minutes} minute(s)`,
      );
    }
    try {
      await next();
      failures.delete(key);
    } catch (error) {
      if ((error as { name?: string }).name === 'NotAuthenticated') {
        failures.set(key, { count: (current?.count ?? 0) + 1, since: current?.since ?? now() });
        if (failures.size > 100_000) failures.delete(failures.keys().next().value as string);
      }
      throw error;
    }
  };
}
