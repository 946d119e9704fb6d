/** Password sign-in over HTTP: JWTs for good passwords, throttling of guessing. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './support/expect-error.js';
import { startTestServer, type TestServer } from './support/test-server.js';

describe('sign-in', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    await server.createUser('guessed@example.com', 'the right password');
  });
  afterAll(() => server.close());

  const signIn = (password: string) =>
    server.request('POST', '/authentication', {
      body: { strategy: 'local', email: 'guessed@example.com', password },
    });

  it('answers a JWT for the right password, case-insensitively on the email', async () => {
    const answer = await server.request('POST', '/authentication', {
      body: { strategy: 'local', email: 'Guessed@Example.com', password: 'the right password' },
    });
    expect(answer.status).toBe(201);
    expect(answer.body.accessToken.split('.')).toHaveLength(3);
  });

  it('refuses further attempts after ten wrong passwords, even the right one', async () => {
    for (let i = 0; i < 10; i++) expectError(await signIn(`guess ${i}`), 401, 'NotAuthenticated', /Invalid login/);
    expectError(await signIn('the right password'), 429, 'TooManyRequests', /Too many failed sign-ins/);
    // API keys still work for that account's owner (the admin's key here).
    const info = await server.request('GET', '/whoami', { token: server.adminToken });
    expect(info.status).toBe(200);
  });
});
