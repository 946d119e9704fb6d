/**
 * `login` and `logout` for scripts: they check and record, or forget, a server's API key in the
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
  /** The account's e-mail; by default the one the server answers for the key. */
  email?: string;
  /** Default `$LARDER_CREDENTIALS`, else `~/.larder/credentials.json`. */
  credentialsFile?: string;
  /** Seconds to wait for the server before giving up. Default 30. */
  timeout?: number;
  /** The fetch used to check the key; defaults to the global one. */
  fetch?: typeof fetch;
}

/**
 * Checks the key against `host` (`GET /whoami`), then stores it for `host` and makes `host`
 * the default server. A server that cannot be reached is an `Unavailable` error, a key it
 * refuses a `NotAuthenticated` one, and nothing is stored.
 *
 * @example
 * await login({ host: 'https://larder.example.org', apiKey: process.env.LARDER_API_KEY! });
 */
export async function login(options: LoginOptions): Promise<void> {
  if (!options.host?.trim() || !options.apiKey?.trim()) {
    throw new LarderError('BadRequest', 'login needs a host (the server URL) and an apiKey');
  }
  const apiKey = options.apiKey.trim();
  const account = await checkKey(normalizeServerUrl(options.host), apiKey, options);
  const email = account ?? options.email;
  const path = options.credentialsFile ?? (await defaultCredentialsPath());
  await writeCredentials(path, options.host, { token: apiKey, ...(email ? { email } : {}) }, { makeDefault: true });
}

/** The e-mail of the key's account (undefined on a server without auth); throws when the key is refused. */
async function checkKey(host: string, apiKey: string, options: LoginOptions): Promise<string | undefined> {
  const seconds = options.timeout ?? 30;
  let response: Response;
  try {
    response = await (options.fetch ?? globalThis.fetch)(`${host}/whoami`, {
      headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' },
      signal: AbortSignal.timeout(seconds * 1000),
    });
  } catch (cause) {
    throw new LarderError(
      'Unavailable',
      `Cannot reach a Larder server at ${host} (${describeCause(cause)}); check the host, nothing was saved`,
      { cause },
    );
  }
  if (response.status === 401 || response.status === 403) {
    throw new LarderError(
      'NotAuthenticated',
      `${host} refused this API key: check it, or create one with "larder token create" (nothing was saved)`,
    );
  }
  const answer = (await response.json().catch(() => undefined)) as
    | { auth?: unknown; user?: { email?: unknown } | null }
    | undefined;
  if (!response.ok || answer === undefined || typeof answer.auth !== 'boolean') {
    throw new LarderError(
      'BadGateway',
      `${host} answered ${response.status} to GET /whoami: is it a Larder server? Nothing was saved`,
    );
  }
  return typeof answer.user?.email === 'string' ? answer.user.email : undefined;
}

function describeCause(cause: unknown): string {
  const inner = (cause as { cause?: { code?: unknown } } | null)?.cause;
  if (inner?.code !== undefined) return String(inner.code);
  return cause instanceof Error ? cause.message : String(cause);
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
