import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readCredentials, resolveConnection } from '../config/credentials.js';
import { login, logout } from './login.js';

let directory: string;
let file: string;

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
      email: 'ada@example.org',
      credentialsFile: file,
    });
    const connection = await resolveConnection({ credentialsFile: file }, {});
    expect(connection).toMatchObject({ url: 'https://larder.example.org', token: 'key-1', email: 'ada@example.org' });
    if (process.platform !== 'win32') expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('logout forgets the default server, or the host named, and keeps the others', async () => {
    await login({ host: 'http://a.example', apiKey: 'a', credentialsFile: file });
    await login({ host: 'http://b.example', apiKey: 'b', credentialsFile: file });
    await logout({ host: 'http://a.example/', credentialsFile: file });
    expect(await readCredentials(file)).toEqual({
      default: 'http://b.example',
      servers: { 'http://b.example': { token: 'b' } },
    });
    await logout({ credentialsFile: file });
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ servers: {} });
    await logout({ credentialsFile: file });
  });

  it('refuses a login without a key', async () => {
    await expect(login({ host: 'http://a.example', apiKey: ' ', credentialsFile: file })).rejects.toThrow(/apiKey/);
  });
});
