/**
 * The credentials file (`~/.larder/credentials.json`) shared by the SDK, the CLI's
 * `larder login` and the server's first start, and the rule that picks the server URL and
 * token a client uses. Node's fs/os/path are imported inside the functions that need them,
 * so importing this module (and the SDK) stays safe in a browser, where only options count.
 *
 * File format: `{ "default": "<url>", "servers": { "<url>": { "token": "...", "email": "..." } } }`
 *
 * @example
 * const { url, token } = await resolveConnection({ url: process.argv[2] });
 */
import { LarderError } from '@larder/protocol';
import { DEFAULT_SERVER_URL, normalizeServerUrl } from './default-server-url.js';

/** What the credentials file remembers about one server. */
export interface CredentialsEntry {
  token?: string;
  email?: string;
}

export interface Credentials {
  /** The server used when nothing else names one. */
  default?: string;
  servers: Record<string, CredentialsEntry>;
}

/** Where the URL and token come from; options beat environment beat the credentials file. */
export interface ConnectionOptions {
  url?: string;
  token?: string;
  /** Defaults to {@link defaultCredentialsPath}. */
  credentialsFile?: string;
}

export type ConnectionSource = 'options' | 'environment' | 'credentials' | 'default';

export interface ResolvedConnection {
  url: string;
  token: string | undefined;
  /** The e-mail the credentials file records for this server, if any. */
  email: string | undefined;
  source: { url: ConnectionSource; token: ConnectionSource | undefined };
  /** The credentials file consulted (empty outside Node). */
  credentialsPath: string;
}

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * `$LARDER_CREDENTIALS`, else `~/.larder/credentials.json` (Node only).
 *
 * @example
 * await writeCredentials(await defaultCredentialsPath(), 'http://127.0.0.1:3030', { token });
 */
export async function defaultCredentialsPath(env: Environment = processEnv()): Promise<string> {
  const configured = nonEmpty(env.LARDER_CREDENTIALS);
  if (configured) return configured;
  const [{ homedir }, { join }] = await Promise.all([import('node:os'), import('node:path')]);
  return join(homedir(), '.larder', 'credentials.json');
}

/**
 * The credentials file's content; an empty one when the file does not exist. A file that
 * is not valid credentials JSON is a BadRequest naming the file.
 *
 * @example
 * const { default: url, servers } = await readCredentials();
 */
export async function readCredentials(path?: string): Promise<Credentials> {
  path ??= await defaultCredentialsPath();
  const { readFile } = await import('node:fs/promises');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if (isMissingFile(cause)) return { servers: {} };
    throw new LarderError('GeneralError', `Could not read the credentials file ${path}: ${String(cause)}`, { cause });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw invalidFile(path, 'it is not valid JSON', cause);
  }
  if (!isObject(parsed)) throw invalidFile(path, 'it is not a JSON object');
  const servers = parsed.servers ?? {};
  if (!isObject(servers)) throw invalidFile(path, '"servers" is not an object');
  const credentials: Credentials = { servers: {} };
  if (typeof parsed.default === 'string') credentials.default = parsed.default;
  for (const [url, entry] of Object.entries(servers)) {
    if (!isObject(entry)) throw invalidFile(path, `the entry for ${url} is not an object`);
    const kept: CredentialsEntry = {};
    if (typeof entry.token === 'string') kept.token = entry.token;
    if (typeof entry.email === 'string') kept.email = entry.email;
    credentials.servers[normalizeServerUrl(url)] = kept;
  }
  return credentials;
}

/**
 * Records `entry` for the server at `url`, merged over what the file already holds. The
 * file is written atomically with mode 0600 in a directory created with mode 0700. `url`
 * becomes the default server when the file names none yet, or when `makeDefault` is true.
 *
 * @example
 * await writeCredentials(await defaultCredentialsPath(), url, { token: accessToken, email }, { makeDefault: true });
 */
export async function writeCredentials(
  path: string,
  url: string,
  entry: CredentialsEntry,
  options: { makeDefault?: boolean } = {},
): Promise<Credentials> {
  const [{ chmod, mkdir, rename, writeFile }, { dirname }] = await Promise.all([
    import('node:fs/promises'),
    import('node:path'),
  ]);
  const key = normalizeServerUrl(url);
  const credentials = await readCredentials(path);
  credentials.servers[key] = { ...credentials.servers[key], ...entry };
  if (options.makeDefault || credentials.default === undefined) credentials.default = key;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  // The mode given to writeFile is masked by the umask; make sure of 0600.
  await chmod(temporary, 0o600);
  await rename(temporary, path);
  return credentials;
}

/**
 * The server URL and token to use: each from `options`, else `$LARDER_URL` /
 * `$LARDER_TOKEN`, else the credentials file (its default server, and the token stored
 * for the chosen URL), else `http://127.0.0.1:3030` and no token. Outside Node only the
 * options count.
 *
 * @example
 * const { url, token, source } = await resolveConnection({ credentialsFile: '/tmp/creds.json' });
 */
export async function resolveConnection(
  options: ConnectionOptions = {},
  env: Environment = processEnv(),
): Promise<ResolvedConnection> {
  const onNode = Boolean(globalThis.process?.versions?.node);
  const credentialsPath = nonEmpty(options.credentialsFile) ?? (onNode ? await defaultCredentialsPath(env) : '');
  let url = pick([nonEmpty(options.url), 'options'], [nonEmpty(env.LARDER_URL), 'environment']);
  let token = pick([nonEmpty(options.token), 'options'], [nonEmpty(env.LARDER_TOKEN), 'environment']);
  let email: string | undefined;
  if (!url || !token) {
    const credentials = onNode ? await readCredentials(credentialsPath) : { servers: {} };
    url ??= pick([nonEmpty(credentials.default), 'credentials']);
    url ??= [DEFAULT_SERVER_URL, 'default'];
    const entry = credentials.servers[normalizeServerUrl(url[0])];
    token ??= pick([nonEmpty(entry?.token), 'credentials']);
    email = entry?.email;
  }
  return {
    url: normalizeServerUrl(url[0]),
    token: token?.[0],
    email,
    source: { url: url[1], token: token?.[1] },
    credentialsPath,
  };
}

type Sourced = [value: string, source: ConnectionSource];

function pick(...candidates: [string | undefined, ConnectionSource][]): Sourced | undefined {
  for (const [value, source] of candidates) if (value !== undefined) return [value, source];
  return undefined;
}

function processEnv(): Environment {
  return globalThis.process?.env ?? {};
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isMissingFile(error: unknown): boolean {
  return isObject(error) && error.code === 'ENOENT';
}

function invalidFile(path: string, problem: string, cause?: unknown): LarderError {
  return new LarderError(
    'BadRequest',
    `The credentials file ${path} is unreadable: ${problem}. Fix it or delete it and run \`larder login\` again.`,
    cause === undefined ? {} : { cause },
  );
}
