import type { HookContext } from '@feathersjs/feathers';
import { LarderError } from '@larder/protocol';
import { describe, expect, it } from 'vitest';
import { signInThrottle } from './sign-in-throttle.js';

function attempt(email: string, ip: string): HookContext {
  return {
    method: 'create',
    data: { strategy: 'local', email, password: 'x' },
    params: { ip },
  } as unknown as HookContext;
}

const wrongPassword = async () => {
  throw new LarderError('NotAuthenticated', 'Invalid login');
};
const rightPassword = async () => {};

describe('sign-in throttling', () => {
  it('refuses an address after too many failures for one email, until the window passes', async () => {
    let time = 0;
    const throttle = signInThrottle({ maxFailures: 3, windowMs: 60_000, now: () => time });
    for (let i = 0; i < 3; i++) {
      await expect(throttle(attempt('A@x.org', '1.1.1.1'), wrongPassword)).rejects.toMatchObject({
        name: 'NotAuthenticated',
      });
    }
    // Even the right password is refused now, from that address, for that email.
    await expect(throttle(attempt('a@x.org', '1.1.1.1'), rightPassword)).rejects.toMatchObject({
      name: 'TooManyRequests',
      code: 429,
      message: expect.stringContaining('try again in 1 minute'),
    });
    // Another address, or another account, is not affected.
    await expect(throttle(attempt('a@x.org', '2.2.2.2'), rightPassword)).resolves.toBeUndefined();
    await expect(throttle(attempt('b@x.org', '1.1.1.1'), rightPassword)).resolves.toBeUndefined();
    time = 61_000;
    await expect(throttle(attempt('a@x.org', '1.1.1.1'), rightPassword)).resolves.toBeUndefined();
  });

  it('forgets failures after a successful sign-in', async () => {
    const throttle = signInThrottle({ maxFailures: 2 });
    await expect(throttle(attempt('a@x.org', 'ip'), wrongPassword)).rejects.toBeDefined();
    await throttle(attempt('a@x.org', 'ip'), rightPassword);
    await expect(throttle(attempt('a@x.org', 'ip'), wrongPassword)).rejects.toMatchObject({ name: 'NotAuthenticated' });
    await expect(throttle(attempt('a@x.org', 'ip'), rightPassword)).resolves.toBeUndefined();
  });

  it('leaves JWT and API key authentication alone', async () => {
    const throttle = signInThrottle({ maxFailures: 1 });
    const jwt = { method: 'create', data: { strategy: 'jwt', accessToken: 'x' }, params: {} } as unknown as HookContext;
    for (let i = 0; i < 3; i++)
      await expect(throttle(jwt, wrongPassword)).rejects.toMatchObject({ name: 'NotAuthenticated' });
  });
});
