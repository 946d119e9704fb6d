/**
 * Fetches a version's files from the registry's download route (`/model-files/<id>/<path>`,
 * permitted by the version's read access), each verified against its SHA-256 before it is
 * kept. Paths are checked again here: a file is never written outside the target folder,
 * whatever the server answers.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { LarderError } from '@larder/protocol';
import { type RetryOptions, withRetries } from '../blobs/retry.js';
import { errorFromAnswer, unreachable } from '../datastore/rest-transport.js';
import type { VersionFile } from './model-records.js';

export interface RegistryHttp {
  url: string;
  token: string | undefined;
  fetch?: typeof fetch;
  /** Milliseconds one request may take (default 10 minutes). */
  timeout?: number;
}

/** Issues an authenticated request to a registry route; non-2xx answers become LarderErrors. */
export async function registryRequest(http: RegistryHttp, method: string, path: string): Promise<Response> {
  const base = http.url.replace(/\/+$/, '');
  const target = `${base}${path}`;
  const headers: Record<string, string> = http.token ? { authorization: `Bearer ${http.token}` } : {};
  const timeout = http.timeout ?? 600_000;
  let response: Response;
  try {
    response = await (http.fetch ?? globalThis.fetch)(target, {
      method,
      headers,
      signal: AbortSignal.timeout(timeout),
    });
  } catch (cause) {
    throw unreachable(method, target, base, timeout, cause);
  }
  if (response.status < 200 || response.status >= 300) {
    throw errorFromAnswer(method, target, response.status, await response.text().catch(() => ''));
  }
  return response;
}

/** The route of a version's file. */
export function versionFileRoute(versionId: string, path: string): string {
  return `/model-files/${encodeURIComponent(versionId)}/${path.split('/').map(encodeURIComponent).join('/')}`;
}

/** Where `path` lands under `root`; throws when it would land anywhere else. */
export function placeInside(root: string, path: string): string {
  const base = resolve(root);
  const target = resolve(base, ...path.split('/'));
  if (path.includes('\\') || path.includes('\0') || !target.startsWith(base + sep)) {
    throw new LarderError('BadGateway', `The server named a file "${path.slice(0, 200)}" outside the model folder`);
  }
  return target;
}

/** Downloads `file` of version `versionId` into `root`, verified against its hash. */
export async function downloadVersionFile(
  http: RegistryHttp,
  versionId: string,
  file: VersionFile,
  root: string,
  retry: RetryOptions = {},
): Promise<void> {
  const target = placeInside(root, file.path);
  await mkdir(dirname(target), { recursive: true });
  await downloadVerified(http, versionFileRoute(versionId, file.path), file.sha256, target, retry);
}

/** Streams `route` into `target`, which appears only once its bytes hash to `sha256`. */
export async function downloadVerified(
  http: RegistryHttp,
  route: string,
  sha256: string,
  target: string,
  retry: RetryOptions = {},
): Promise<void> {
  const partial = `${target}.partial`;
  try {
    await withRetries(async () => {
      const response = await registryRequest(http, 'GET', route);
      const hash = createHash('sha256');
      const handle = await open(partial, 'w');
      try {
        if (response.body) {
          for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
            hash.update(chunk);
            await handle.write(chunk);
          }
        }
      } finally {
        await handle.close();
      }
      if (hash.digest('hex') !== sha256) {
        throw new LarderError('BadGateway', `The bytes received for ${route} do not match their SHA-256`);
      }
    }, retry);
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}
