/**
 * Keeps a test away from the developer's own Larder settings: clears `LARDER_URL` and
 * `LARDER_TOKEN`, points `LARDER_CREDENTIALS` at a file that does not exist, and restores
 * everything afterwards.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';

const KEYS = ['LARDER_URL', 'LARDER_TOKEN', 'LARDER_CREDENTIALS'] as const;

export function useIsolatedEnvironment(): void {
  let saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    saved = Object.fromEntries(KEYS.map((key) => [key, process.env[key]]));
    delete process.env.LARDER_URL;
    delete process.env.LARDER_TOKEN;
    process.env.LARDER_CREDENTIALS = join(tmpdir(), `larder-test-${process.pid}-absent`, 'credentials.json');
  });
  afterEach(() => {
    for (const key of KEYS) {
      const value = saved[key];
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
}
