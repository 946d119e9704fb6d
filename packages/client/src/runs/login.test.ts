import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readCredentials, resolveConnection } from '../config/credentials.js';
import { login, logout } from './login.js';

let directory: string;
let file: string;

/** A server that knows one key, `key-<x>`, for the account `ada@example.org`. */
const server: typeof fetch = async (_input, init) => {
  const key = new Headers(init?.headers).get('authorization')?.replace('Bearer ', '') ?? '';
  if (!key.startsWith('key-') && key !== 'a' && key !== 'b')
    return new Response('{"name":"NotAuthenticated"}', { status: 401 });
  return Response.json({ auth: true, user: { email: 'ada@example.org' } });
};

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'larder-login-'));
  file = join(directory, 'credentials.json');
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('login and logout', () => {
  it('records the key as the default server, where every client finds it', async () => {
    await login({
      host: 'https://larder.example.org/',
      apiKey: 'key-1',
      credentialsFile: file,
      fetch: server,
    });
    const connection = await resolveConnection({ credentialsFile: file }, {});
    expect(connection).toMatchObject({ url: 'https://larder.example.org', token: 'key-1', email: 'ada@example.org' });
    if (process.platform !== 'win32') expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('logout forgets the default server, or the host named, and keeps the others', async () => {
    await login({ host: 'http://a.example', apiKey: 'a', credentialsFile: file, fetch: server });
    await login({ host: 'http://b.example', apiKey: 'b', credentialsFile: file, fetch: server });
    await logout({ host: 'http://a.example/', credentialsFile: file });
    expect(await readCredentials(file)).toEqual({
      default: 'http://b.example',
      servers: { 'http://b.example': { token: 'b', email: 'ada@example.org' } },
    });
    await logout({ credentialsFile: file });
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ servers: {} });
    await logout({ credentialsFile: file });
  });

  it('says when the server refuses the key, or cannot be reached, and saves nothing', async () => {
    await expect(
      login({ host: 'https://larder.example.org', apiKey: 'wrong', credentialsFile: file, fetch: server }),
    ).rejects.toThrow('https://larder.example.org refused this API key: check it');
    const down: typeof fetch = async () => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    };
    await expect(
      login({ host: 'http://127.0.0.1:9', apiKey: 'key-1', credentialsFile: file, fetch: down }),
    ).rejects.toThrow('Cannot reach a Larder server at http://127.0.0.1:9 (ECONNREFUSED)');
    expect(await readCredentials(file)).toEqual({ servers: {} });
  });

  it('refuses a login without a key', async () => {
    await expect(login({ host: 'http://a.example', apiKey: ' ', credentialsFile: file })).rejects.toThrow(/apiKey/);
  });
});
