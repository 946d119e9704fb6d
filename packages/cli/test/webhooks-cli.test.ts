/**
 * `larder webhooks add|ls|deliveries|rm` against a real server: the secret is printed once,
 * a finished run shows in the delivery log, mistakes end in one sentence.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { runCli } from './support/run-cli.js';

describe('larder webhooks', () => {
  let server: TestServer;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let token: string;

  beforeAll(async () => {
    server = await startTestServer({ gcIntervalMs: 0, webhookRetryBaseMs: 60_000 });
    dir = await mkdtemp(join(tmpdir(), 'larder-webhooks-cli-'));
    token = (await server.createUser('ada@example.org')).token;
    env = {
      ...process.env,
      LARDER_CREDENTIALS: join(dir, 'credentials.json'),
      LARDER_URL: server.url,
      LARDER_TOKEN: token,
    };
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('adds, lists, shows deliveries and removes a webhook', async () => {
    const added = await runCli(['webhooks', 'add', 'http://127.0.0.1:9/hook', '--events', 'run.finished,run.failed'], {
      env,
    });
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout.trim()).toMatch(/^whsec_/);
    expect(added.stderr).toMatch(/will not be shown again/);
    const id = /webhook ([0-9A-Za-z]{12})/.exec(added.stderr)?.[1] as string;

    const listed = await runCli(['webhooks', 'ls'], { env });
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toContain('run.finished,run.failed');
    expect(listed.stdout).not.toMatch(/whsec_/);

    const run = await server.request('POST', '/runs', { token, body: { name: 'r', folder: 'x', makeFolder: true } });
    await server.request('PATCH', `/runs/${run.body._id}`, { token, body: { status: 'Failed' } });
    // The receiver is not there: the first attempt fails and the log says so.
    for (let tries = 0; tries < 100; tries += 1) {
      const log = await server.request('GET', '/webhook-deliveries', { token });
      if (log.body.data?.[0]?.attempts?.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const deliveries = await runCli(['webhooks', 'deliveries', id], { env });
    expect(deliveries.code).toBe(0);
    expect(deliveries.stdout).toMatch(/run\.failed\s+pending\s+error/);

    const wrong = await runCli(['webhooks', 'add', 'ftp://x'], { env });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/http:\/\/ or https:\/\//);
    const unknown = await runCli(['webhooks', 'rm', 'zzzz'], { env });
    expect(unknown.stderr).toMatch(/No webhook of yours/);
    expect((await runCli(['webhooks', 'rm', id], { env })).stdout).toMatch(/Removed webhook/);
    expect((await runCli(['webhooks', 'ls'], { env })).stdout).toMatch(/No webhooks/);
  });
});
