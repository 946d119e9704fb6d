import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultCredentialsPath, readCredentials, resolveConnection, writeCredentials } from './credentials.js';

const ENV_KEYS = ['LARDER_URL', 'LARDER_TOKEN', 'LARDER_CREDENTIALS'] as const;

let directory: string;
let file: string;
let savedEnv: Record<string, string | undefined>;

beforeEach(async () => {
  savedEnv = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));
  for (const key of ENV_KEYS) delete process.env[key];
  directory = await mkdtemp(join(tmpdir(), 'larder-credentials-'));
  file = join(directory, 'credentials.json');
  process.env.LARDER_CREDENTIALS = file;
});

afterEach(async () => {
  for (const key of ENV_KEYS) {
    const value = savedEnv[key];
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  await rm(directory, { recursive: true, force: true });
});

async function writeFileJson(path: string, content: unknown): Promise<void> {
  await writeFile(path, JSON.stringify(content));
}

const stored = {
  default: 'http://files.example:3030',
  servers: {
    'http://files.example:3030': { token: 'file-token', email: 'ada@example.org' },
    'http://other.example:3030/': { token: 'other-token' },
  },
};

describe('resolveConnection', () => {
  it('falls back to the local server without a token when nothing is configured', async () => {
    const connection = await resolveConnection();
    expect(connection).toMatchObject({ url: 'http://127.0.0.1:3030', token: undefined, credentialsPath: file });
    expect(connection.source).toEqual({ url: 'default', token: undefined });
  });

  it('reads the default server and its token from the credentials file', async () => {
    await writeFileJson(file, stored);
    const connection = await resolveConnection();
    expect(connection).toMatchObject({
      url: 'http://files.example:3030',
      token: 'file-token',
      email: 'ada@example.org',
    });
    expect(connection.source).toEqual({ url: 'credentials', token: 'credentials' });
  });

  it('prefers the environment over the credentials file', async () => {
    await writeFileJson(file, stored);
    process.env.LARDER_URL = 'http://env.example:4000';
    process.env.LARDER_TOKEN = 'env-token';
    const connection = await resolveConnection();
    expect(connection).toMatchObject({ url: 'http://env.example:4000', token: 'env-token' });
    expect(connection.source).toEqual({ url: 'environment', token: 'environment' });
  });

  it('prefers options over the environment', async () => {
    process.env.LARDER_URL = 'http://env.example:4000';
    process.env.LARDER_TOKEN = 'env-token';
    const connection = await resolveConnection({ url: 'http://option.example/', token: 'option-token' });
    expect(connection).toMatchObject({ url: 'http://option.example', token: 'option-token' });
    expect(connection.source).toEqual({ url: 'options', token: 'options' });
  });

  it('takes the token stored for the chosen URL, whatever chose it', async () => {
    await writeFileJson(file, stored);
    const fromOptions = await resolveConnection({ url: 'http://other.example:3030' });
    expect(fromOptions).toMatchObject({ url: 'http://other.example:3030', token: 'other-token' });
    process.env.LARDER_URL = 'http://unknown.example';
    const unknown = await resolveConnection();
    expect(unknown).toMatchObject({ url: 'http://unknown.example', token: undefined });
  });

  it('mixes sources field by field: a URL from the file with a token from the environment', async () => {
    await writeFileJson(file, stored);
    process.env.LARDER_TOKEN = 'env-token';
    const connection = await resolveConnection();
    expect(connection.source).toEqual({ url: 'credentials', token: 'environment' });
    expect(connection.token).toBe('env-token');
  });

  it('reads the file named in options before $LARDER_CREDENTIALS', async () => {
    const other = join(directory, 'other.json');
    await writeFileJson(other, { default: 'http://chosen.example', servers: {} });
    await writeFileJson(file, stored);
    const connection = await resolveConnection({ credentialsFile: other });
    expect(connection).toMatchObject({ url: 'http://chosen.example', credentialsPath: other });
  });

  it('ignores empty environment variables', async () => {
    process.env.LARDER_URL = '';
    process.env.LARDER_TOKEN = ' ';
    expect(await resolveConnection()).toMatchObject({ url: 'http://127.0.0.1:3030', token: undefined });
  });

  it('names the file and the fix when the file is not valid JSON', async () => {
    await writeFile(file, '{ "default": ');
    await expect(resolveConnection()).rejects.toMatchObject({
      name: 'BadRequest',
      message: expect.stringContaining(`The credentials file ${file} is unreadable: it is not valid JSON`),
    });
  });
});

describe('defaultCredentialsPath', () => {
  it('is $LARDER_CREDENTIALS, else ~/.larder/credentials.json', async () => {
    expect(await defaultCredentialsPath()).toBe(file);
    delete process.env.LARDER_CREDENTIALS;
    expect(await defaultCredentialsPath()).toMatch(/[/\\]\.larder[/\\]credentials\.json$/);
  });
});

describe('writeCredentials', () => {
  it('creates a private file in a private directory', async () => {
    const nested = join(directory, 'fresh', 'credentials.json');
    await writeCredentials(nested, 'http://a.example:3030/', { token: 't1', email: 'ada@example.org' });
    expect(JSON.parse(await readFile(nested, 'utf8'))).toEqual({
      default: 'http://a.example:3030',
      servers: { 'http://a.example:3030': { token: 't1', email: 'ada@example.org' } },
    });
    if (process.platform !== 'win32') {
      expect((await stat(nested)).mode & 0o777).toBe(0o600);
      expect((await stat(join(directory, 'fresh'))).mode & 0o777).toBe(0o700);
    }
  });

  it('merges into what the file holds and keeps the default unless asked', async () => {
    await writeFileJson(file, stored);
    await writeCredentials(file, 'http://files.example:3030', { token: 'new-token' });
    await writeCredentials(file, 'http://b.example', { token: 'b-token' });
    let credentials = await readCredentials(file);
    expect(credentials.default).toBe('http://files.example:3030');
    expect(credentials.servers['http://files.example:3030']).toEqual({ token: 'new-token', email: 'ada@example.org' });
    expect(credentials.servers['http://other.example:3030']).toEqual({ token: 'other-token' });
    expect(credentials.servers['http://b.example']).toEqual({ token: 'b-token' });

    await writeCredentials(file, 'http://b.example', { email: 'bob@example.org' }, { makeDefault: true });
    credentials = await readCredentials(file);
    expect(credentials.default).toBe('http://b.example');
    expect(credentials.servers['http://b.example']).toEqual({ token: 'b-token', email: 'bob@example.org' });
  });

  it('reads back as an empty file when none exists', async () => {
    expect(await readCredentials(join(directory, 'missing.json'))).toEqual({ servers: {} });
  });
});
