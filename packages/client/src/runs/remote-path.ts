/**
 * Server paths of runs and artifacts: `/<owner>/<folder…>/<name>`, or `<folder…>/<name>`
 * relative to the signed-in user's home.
 */
import type { RemotePath } from './runs-remote.js';

/**
 * The folder and name of a server path; `undefined` when it has no folder part.
 *
 * @example
 * splitRemotePath('/ada@example.org/cv/mnist/cnn'); // { folder: '/ada@example.org/cv/mnist', name: 'cnn' }
 * splitRemotePath('cv/mnist/cnn');                  // { folder: 'cv/mnist', name: 'cnn' }
 */
export function splitRemotePath(path: string): RemotePath | undefined {
  const trimmed = path.replace(/\/+$/, '');
  const at = trimmed.lastIndexOf('/');
  if (at <= 0) return undefined;
  const name = trimmed.slice(at + 1);
  const folder = trimmed.slice(0, at);
  if (name === '' || folder === '' || folder === '/') return undefined;
  return { folder, name };
}
