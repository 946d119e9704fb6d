/** Where a DataStore connects when neither options, environment nor credentials name a server. */
export const DEFAULT_SERVER_URL = 'http://127.0.0.1:3030';

/** Server URLs are compared and stored without trailing slashes. */
export function normalizeServerUrl(url: string): string {
  return url.trim().replace(/\/+$/, '');
}
