/**
 * `larder blob upload|download` and `larder gc` against a real server: a file goes up in
 * chunks and comes back identical; collection reclaims it once nothing holds it; mistakes
 * end in one sentence and a non-zero exit.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { runCli } from './support/run-cli.js';

describe('larder blob and larder gc', () => {
  let server: TestServer;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let userEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    server = await startTestServer({ gcIntervalMs: 0 });
    dir = await mkdtemp(join(tmpdir(), 'larder-blob-cli-'));
    const base = { ...process.env, LARDER_CREDENTIALS: join(dir, 'credentials.json'), LARDER_URL: server.url };
    env = { ...base, LARDER_TOKEN: server.adminToken };
    userEnv = { ...base, LARDER_TOKEN: (await server.createUser('ada@example.org')).token };
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('uploads in chunks, downloads identical bytes, and gc reclaims them once unreferenced', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const source = join(dir, 'model.bin');
    await writeFile(source, bytes);
    const uploaded = await runCli(['blob', 'upload', source, '--chunk-mb', '1'], { env: userEnv });
    expect(uploaded.stderr).toBe('');
    expect(uploaded.code).toBe(0);
    const blob = JSON.parse(uploaded.stdout) as { sha256: string; size: number };
    expect(blob).toEqual({ sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length });

    const target = join(dir, 'copy.bin');
    const downloaded = await runCli(['blob', 'download', blob.sha256, target], { env: userEnv });
    expect(downloaded.code).toBe(0);
    expect((await readFile(target)).equals(bytes)).toBe(true);

    const dry = await runCli(['gc', '--grace', '0', '--dry-run'], { env });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^would delete \d+ blobs/);
    const collected = await runCli(['gc', '--grace', '0s'], { env });
    expect(collected.stdout).toMatch(/^deleted [1-9]\d* blobs/);
    const gone = await runCli(['blob', 'download', blob.sha256, join(dir, 'again.bin')], { env: userEnv });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^larder: .*No blob/);
  });

  it('refuses mistakes clearly', async () => {
    const missing = await runCli(['blob', 'upload', join(dir, 'nope.bin')], { env: userEnv });
    expect(missing).toMatchObject({ code: 1 });
    expect(missing.stderr).toMatch(/No file .*nope\.bin/);
    const badHash = await runCli(['blob', 'download', 'abc', join(dir, 'x')], { env: userEnv });
    expect(badHash.stderr).toMatch(/64 lower-case hex digits/);
    const badGrace = await runCli(['gc', '--grace', 'soon'], { env });
    expect(badGrace.stderr).toMatch(/--grace must be a duration/);
    const notAdmin = await runCli(['gc'], { env: userEnv });
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.stderr).toMatch(/Only administrators/);
  });
});
