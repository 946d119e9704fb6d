/**
 * Points `$LARDER_RUN_PARENT_DIR` and `$LARDER_ARTIFACT_PARENT_DIR` at a fresh temporary
 * directory for each test, and removes it afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';

export function useTemporaryRunDirectories(): { root: () => string } {
  let root = '';
  const saved: Record<string, string | undefined> = {};
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'larder-runs-'));
    for (const key of ['LARDER_RUN_PARENT_DIR', 'LARDER_ARTIFACT_PARENT_DIR']) saved[key] = process.env[key];
    process.env.LARDER_RUN_PARENT_DIR = join(root, 'runs');
    process.env.LARDER_ARTIFACT_PARENT_DIR = join(root, 'artifacts');
  });
  afterEach(async () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await rm(root, { recursive: true, force: true });
  });
  return { root: () => root };
}
