/**
 * When the S3 server goes away, uploads and downloads get a prompt 503 (not a hang, not a
 * crash, nothing half-stored), records keep working, and blobs work again by themselves
 * once S3 is back. The fault is a real network cut between Larder and a real S3 server.
 */
import { createHash, randomBytes } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './support/expect-error.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { startTestServer, type TestServer } from './support/test-server.js';

const endpoint = process.env.LARDER_TEST_S3_ENDPOINT;
const AWS_KEYS = ['AWS_ENDPOINT_URL_S3', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION'] as const;

describe.runIf(endpoint)('S3 going away', () => {
  let proxy: TcpProxy;
  let server: TestServer;
  const saved = Object.fromEntries(AWS_KEYS.map((key) => [key, process.env[key]]));

  beforeAll(async () => {
    const target = new URL(endpoint as string);
    proxy = await startTcpProxy(target.hostname, Number(target.port));
    const bucket = `larder-faults-${randomBytes(4).toString('hex')}`;
    const client = new S3Client({
      endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'larder-test', secretAccessKey: 'larder-test' },
    });
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    client.destroy();
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${proxy.port}`,
      AWS_ACCESS_KEY_ID: 'larder-test',
      AWS_SECRET_ACCESS_KEY: 'larder-test',
      AWS_REGION: 'us-east-1',
    });
    server = await startTestServer({ blobs: `s3://${bucket}/blobs`, gcIntervalMs: 0 });
  });

  afterAll(async () => {
    for (const key of AWS_KEYS) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
    await proxy.restore().catch(() => {});
    await server?.close();
    await proxy.close();
  });

  const upload = (bytes: Buffer) =>
    fetch(`${server.url}/blobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminToken}` },
      body: bytes,
    });

  it('answers 503 while S3 is unreachable, keeps records working, and recovers when it is back', async () => {
    const token = server.adminToken;
    const before = randomBytes(64 * 1024);
    const stored = await upload(before);
    expect(stored.status).toBe(201);
    const { sha256 } = (await stored.json()) as { sha256: string };

    await proxy.cut();
    const started = Date.now();
    const during = await upload(randomBytes(64 * 1024));
    expect(during.status).toBe(503);
    expect(((await during.json()) as { name: string }).name).toBe('Unavailable');
    expectError(await server.request('GET', `/blobs/${sha256}`, { token }), 503, 'Unavailable', /unreachable/);
    expect(Date.now() - started).toBeLessThan(20_000);
    // Records live in the database, which is still there.
    expect((await server.request('POST', '/notes', { token, body: { text: 'still here' } })).status).toBe(201);

    await proxy.restore();
    const again = await fetch(`${server.url}/blobs/${sha256}`, { headers: { authorization: `Bearer ${token}` } });
    expect(again.status).toBe(200);
    expect(
      createHash('sha256')
        .update(Buffer.from(await again.arrayBuffer()))
        .digest('hex'),
    ).toBe(sha256);
    const after = await upload(randomBytes(1000));
    expect(after.status).toBe(201);
  });
});
