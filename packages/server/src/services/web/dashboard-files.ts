/**
 * The built dashboard on disk (`packages/web/dist`): where it is, and which file a request
 * path names. Only regular files inside the folder are ever answered; a path that climbs out
 * of it, or names nothing there, is not the dashboard's.
 */
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Hashed bundles live here (Vite's `assetsDir`): named by content, cached for a year. */
export const HASHED_ASSETS_PREFIX = '/_dashboard/';

/**
 * `packages/web/dist`, found from this file: the same three levels below
 * `packages/server` whether it runs from `src/` (tests) or `dist/` (the CLI).
 */
export function defaultDashboardRoot(): string {
  return fileURLToPath(new URL('../../../../web/dist/', import.meta.url));
}

export interface DashboardFile {
  path: string;
  size: number;
  modified: Date;
  /** The file's type by extension, for `Content-Type`. */
  extension: string;
}

async function regularFile(path: string): Promise<DashboardFile | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? { path, size: info.size, modified: info.mtime, extension: extname(path) } : undefined;
  } catch {
    return undefined;
  }
}

/** The file under `root` that `requestPath` names (URL-decoded), or undefined. */
export async function dashboardFile(root: string, requestPath: string): Promise<DashboardFile | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(requestPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const base = resolve(root);
  const target = resolve(base, `.${decoded}`);
  if (!target.startsWith(base + sep)) return undefined;
  return regularFile(target);
}

/** A pre-compressed twin written by the build (`.br`, `.gz`), when the client takes it. */
export async function compressedTwin(
  file: DashboardFile,
  acceptEncoding: string,
): Promise<{ file: DashboardFile; encoding: string } | undefined> {
  for (const [encoding, suffix] of [
    ['br', '.br'],
    ['gzip', '.gz'],
  ] as const) {
    if (!acceptEncoding.includes(encoding)) continue;
    const twin = await regularFile(`${file.path}${suffix}`);
    if (twin) return { file: { ...twin, extension: file.extension }, encoding };
  }
  return undefined;
}

export function indexFile(root: string): Promise<DashboardFile | undefined> {
  return regularFile(join(root, 'index.html'));
}
