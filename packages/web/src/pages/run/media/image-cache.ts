/**
 * The pictures of a run's image panels as object URLs, fetched with the session's token
 * (an `<img src>` cannot carry it), each once, the most recently used kept (64): moving the
 * step slider back and forth shows pictures already fetched at once, and memory stays bounded.
 */
import { api } from '../../../api/api-client.js';

const KEPT = 64;
const urls = new Map<string, Promise<string>>();
const resolved = new Map<string, string>();

/** The object URL of a picture already fetched, for drawing it in the same frame. */
export function fetchedUrl(path: string): string | undefined {
  return resolved.get(path);
}

/** The object URL of the picture at `path`, fetched on first use. */
export function pictureUrl(path: string): Promise<string> {
  const known = urls.get(path);
  if (known) {
    urls.delete(path);
    urls.set(path, known);
    return known;
  }
  const loading = api.blob(path).then((blob) => {
    const url = URL.createObjectURL(blob);
    if (urls.has(path)) resolved.set(path, url);
    return url;
  });
  loading.catch(() => urls.delete(path));
  urls.set(path, loading);
  while (urls.size > KEPT) {
    const [oldest, url] = urls.entries().next().value as [string, Promise<string>];
    urls.delete(oldest);
    resolved.delete(oldest);
    void url.then(
      (each) => URL.revokeObjectURL(each),
      () => {},
    );
  }
  return loading;
}
