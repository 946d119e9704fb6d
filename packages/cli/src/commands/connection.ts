/**
 * The server a command talks to: `--url` / `--token`, else `LARDER_URL` / `LARDER_TOKEN`,
 * else the credentials file written by `larder login` or the first `larder serve`.
 */
import { DataStore, LarderError, type ResolvedConnection, resolveConnection } from '@larder/client';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';

export interface Connection extends ResolvedConnection {
  store: DataStore;
  /** GET a JSON route that is not a service (`/info`, `/whoami`). */
  getJson<T>(path: string): Promise<T>;
  /** POST JSON to a route that is not a service (`/blobs/gc`). */
  postJson<T>(path: string, body: unknown): Promise<T>;
}

export async function connect(program: Command): Promise<Connection> {
  const globals = program.opts<{ url?: string; token?: string }>();
  const resolved = await resolveConnection({
    ...(globals.url ? { url: globals.url } : {}),
    ...(globals.token ? { token: globals.token } : {}),
  });
  await assertLarderAt(resolved.url);
  const store = new DataStore({ url: resolved.url, ...(resolved.token ? { token: resolved.token } : {}) });
  const requestJson = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let response: Response;
    const headers: Record<string, string> = resolved.token ? { authorization: `Bearer ${resolved.token}` } : {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      // Under the URL's path, as the SDK sends every call (a server behind a proxy at /larder).
      response = await fetch(`${resolved.url}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      throw new CliError(`Cannot reach a Larder server at ${resolved.url}: ${(error as Error).message}`);
    }
    const answer = (await response.json().catch(() => undefined)) as T & { message?: string; name?: string };
    if (!response.ok) {
      throw new LarderError(
        (answer?.name as 'BadRequest') ?? 'GeneralError',
        answer?.message ?? `The server answered ${response.status}`,
      );
    }
    return answer;
  };
  const getJson = <T>(path: string) => requestJson<T>('GET', path);
  const postJson = <T>(path: string, body: unknown) => requestJson<T>('POST', path, body);
  return { ...resolved, store, getJson, postJson };
}

/**
 * A URL with a path (`http://host:3030/api`) works when a Larder server answers under it (a
 * proxy at that path); otherwise it is refused at once, before a command fails in a stranger way.
 */
async function assertLarderAt(url: string): Promise<void> {
  const { pathname } = new URL(url);
  if (pathname === '/' || pathname === '') return;
  const root = url.slice(0, url.length - pathname.length);
  let status: number | undefined;
  try {
    const response = await fetch(`${url}/whoami`, { signal: AbortSignal.timeout(10_000) });
    const answer = (await response.json().catch(() => undefined)) as { auth?: unknown } | undefined;
    if (response.ok && typeof answer?.auth === 'boolean') return;
    status = response.status;
  } catch {
    return; // Unreachable: the command itself says so.
  }
  throw new CliError(
    `No Larder server answers at ${url} (GET ${pathname}/whoami answered ${status}): give the server's own URL, such as ${root}, with --url or LARDER_URL`,
  );
}
