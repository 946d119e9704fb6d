/**
 * HttpStockRemote finds its server and token as every SDK entry point does: with no options
 * it reads `$LARDER_CREDENTIALS` (default `~/.larder/credentials.json`), as `larder login` wrote it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCredentials } from '@larder/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { HttpStockRemote } from '../src/index.js';

describe('HttpStockRemote without options', () => {
  let server: TestServer;
  let dir: string;
  const saved = { url: process.env.LARDER_URL, token: process.env.LARDER_TOKEN, file: process.env.LARDER_CREDENTIALS };

  beforeAll(async () => {
    server = await startTestServer({ gcIntervalMs: 0 });
    dir = await mkdtemp(join(tmpdir(), 'larder-stock-credentials-'));
  });
  afterAll(async () => {
    for (const [key, value] of [
      ['LARDER_URL', saved.url],
      ['LARDER_TOKEN', saved.token],
      ['LARDER_CREDENTIALS', saved.file],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('signs in with the credentials file and creates a private repository as its user', async () => {
    const ada = await server.createUser('ada@example.org');
    const credentials = join(dir, 'credentials.json');
    await writeCredentials(credentials, server.url, { token: ada.token, email: ada.email });
    delete process.env.LARDER_URL;
    delete process.env.LARDER_TOKEN;
    process.env.LARDER_CREDENTIALS = credentials;
    const remote = new HttpStockRemote();
    try {
      const created = await remote.createRepository('from-credentials');
      expect(created).toMatchObject({ name: 'from-credentials', userId: ada.id });
      expect((await remote.findRepository('from-credentials'))?._id).toBe(created._id);
      expect(await remote.missingObjects(created._id, ['a'.repeat(64)])).toEqual(['a'.repeat(64)]);
      expect(remote.location).toBe(server.url);
    } finally {
      await remote.close();
    }
  });
});
