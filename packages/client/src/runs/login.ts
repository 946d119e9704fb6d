/**
 * `login` and `logout` for scripts: they record or forget a server's API key in the
 * credentials file the whole SDK (and the CLI) reads, so later `createRun({ autoUpload })`,
 * `upload()` and `new DataStore()` find it.
 */
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LarderError } from '@larder/protocol';
import { defaultCredentialsPath, readCredentials, writeCredentials } from '../config/credentials.js';
import { normalizeServerUrl } from '../config/default-server-url.js';

export interface LoginOptions {
  /** The server's URL, e.g. `https://larder.example.org`. */
  host: string;
  /** An API key (or access token) of your account on that server. */
  apiKey: string;
  /** The account's e-mail; lets `loadRun('folder/name')` find runs relative to your home. */
  email?: string;
  /** Default `$LARDER_CREDENTIALS`, else `~/.larder/credentials.json`. */
  credentialsFile?: string;
}

/**
 * Stores the key for `host` and makes `host` the default server.
 *
 * @example
 * await login({ host: 'https://larder.example.org', apiKey: process.env.LARDER_API_KEY! });
 */
export async function login(options: LoginOptions): Promise<void> {
  if (!options.host?.trim() || !options.apiKey?.trim()) {
    throw new LarderError('BadRequest', 'login needs a host (the server URL) and an apiKey');
  }
  const path = options.credentialsFile ?? (await defaultCredentialsPath());
  await writeCredentials(
    path,
    options.host,
    { token: options.apiKey.trim(), ...(options.email ? { email: options.email } : {}) },
    { makeDefault: true },
  );
}

/**
 * Forgets the key of `host` (default: the default server); when it was the default server,
 * no server is default afterwards.
 *
 * @example
 * await logout();
 */
export async function logout(options: { host?: string; credentialsFile?: string } = {}): Promise<void> {
  const path = options.credentialsFile ?? (await defaultCredentialsPath());
  const credentials = await readCredentials(path);
  const host = options.host ? normalizeServerUrl(options.host) : credentials.default;
  if (host === undefined || !(host in credentials.servers)) return;
  delete credentials.servers[host];
  if (credentials.default === host) delete credentials.default;
  // Same file discipline as writeCredentials: private mode, atomic replace.
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}
