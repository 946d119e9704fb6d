/**
 * The README's way to put `larder` on the PATH from a checkout: after `npm install` (or
 * `npm ci`) and `npm run build`, `<checkout>/node_modules/.bin` holds `larder`, so with it
 * on the PATH the command runs from any folder, not only inside the clone.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const checkout = fileURLToPath(new URL('../../..', import.meta.url));

describe('larder on the PATH from a checkout', () => {
  let elsewhere: string;
  beforeAll(async () => {
    elsewhere = await mkdtemp(join(tmpdir(), 'larder-elsewhere-'));
  });
  afterAll(async () => {
    await rm(elsewhere, { recursive: true, force: true });
  });

  it('runs as plain `larder` from a folder outside the clone', async () => {
    const env = { ...process.env, PATH: `${join(checkout, 'node_modules', '.bin')}${delimiter}${process.env.PATH}` };
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        'larder',
        ['--version'],
        { cwd: elsewhere, env, shell: process.platform === 'win32' },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(result).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
  });
});
