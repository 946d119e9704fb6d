/**
 * Where to download a run's named file. A name made of dots (`.`, `..`) cannot travel in a
 * URL: normalisation folds such a segment away, even percent-encoded, so those files come
 * from the blob route instead (served to whoever uploaded them).
 */
export function runFileRoute(runId: string, name: string, sha256: string): string {
  if (/^\.+$/.test(name)) return `/blobs/${sha256}`;
  return `/runs/${encodeURIComponent(runId)}/files/${encodeURIComponent(name)}`;
}
