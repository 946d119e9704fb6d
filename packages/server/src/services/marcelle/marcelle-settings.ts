/**
 * Settings of the Marcelle drop-in. The asset extension whitelist mirrors the reference
 * backend's `whitelist.assets`: file fields whose name ends with one of these extensions are
 * kept by `POST /assets/upload`, others are dropped.
 *
 * @example
 * LARDER_MARCELLE_ASSET_EXTENSIONS=jpg,png,webm larder serve   # or "*" for any extension
 */

/** The reference backend's default. */
export const DEFAULT_ASSET_EXTENSIONS: readonly string[] = ['jpg', 'jpeg', 'png', 'wav'];

export interface MarcelleSettings {
  /** Lower-case extensions without the dot, or `'*'` for every file. */
  assetExtensions: readonly string[] | '*';
}

/** Reads `LARDER_MARCELLE_ASSET_EXTENSIONS` (comma-separated, or `*`). */
export function marcelleSettingsFrom(env: NodeJS.ProcessEnv = process.env): MarcelleSettings {
  const raw = env.LARDER_MARCELLE_ASSET_EXTENSIONS?.trim();
  if (raw === undefined || raw === '') return { assetExtensions: DEFAULT_ASSET_EXTENSIONS };
  if (raw === '*') return { assetExtensions: '*' };
  const extensions = raw
    .split(',')
    .map((each) => each.trim().replace(/^\./, '').toLowerCase())
    .filter((each) => each !== '');
  return { assetExtensions: extensions };
}

/** The extension of a field name (`photo.JPG` → `jpg`), or undefined. */
export function extensionOf(name: string): string | undefined {
  const dot = name.lastIndexOf('.');
  if (dot < 0 || dot === name.length - 1) return undefined;
  return name.slice(dot + 1).toLowerCase();
}

/** Whether an asset field is kept under the whitelist. */
export function isAllowedAsset(fieldName: string, settings: MarcelleSettings): boolean {
  if (settings.assetExtensions === '*') return true;
  const extension = extensionOf(fieldName);
  return extension !== undefined && settings.assetExtensions.includes(extension);
}
