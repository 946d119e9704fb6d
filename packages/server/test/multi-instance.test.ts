/**
 * Two Larder instances over one PostgreSQL database and one Redis: a socket client on A
 * sees the events of writes made through B (only those it may read), both accept the same
 * tokens, concurrent writers through both lose nothing, and a blob uploaded through one
 * downloads through the other, from S3-compatible storage (moto's server in CI), or from a
 * shared folder when no S3 server is configured.
 */
import { createHash, randomBytes } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { authentication, feathers, socketio } from '@feathersjs/client';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/index.js';
import { startTestServer, type TestServer } from './support/test-server.js';

const postgres = process.env.LARDER_TEST_POSTGRES_URL;
const redis = process.env.LARDER_TEST_REDIS_URL;
const s3 = process.env.LARDER_TEST_S3_ENDPOINT;

/** An s3:// location in a fresh bucket of the test S3 server, configured as the AWS environment does. */
async function testBucket(): Promise<string | undefined> {
  if (!s3) return undefined;
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: s3,
    AWS_ACCESS_KEY_ID: 'larder-test',
    AWS_SECRET_ACCESS_KEY: 'larder-test',
    AWS_REGION: 'us-east-1',
  });
  const bucket = `larder-multi-${randomBytes(4).toString('hex')}`;
  const client = new S3Client({ endpoint: s3, forcePathStyle: true, region: 'us-east-1' });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
  return `s3://${bucket}/blobs`;
}
const PASSWORD = 'correct horse battery';

describe.runIf(postgres && redis)('two instances sharing PostgreSQL and Redis', () => {
  let a: TestServer;
  let b: RunningServer;
  const sockets: Socket[] = [];

  const request = async (url: string, method: string, path: string, token: string | undefined, body?: unknown) => {
    const response = await fetch(url + path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  async function socketClient(url: string, email: string) {
    const socket = io(url, { transports: ['websocket'], forceNew: true });
    sockets.push(socket);
    const client = feathers();
    client.configure(socketio(socket as any));
    client.configure(authentication());
    await client.authenticate({ strategy: 'local', email, password: PASSWORD });
    return client;
  }

  beforeAll(async () => {
    const blobs = await testBucket();
    a = await startTestServer({ store: 'postgres', redis, ...(blobs ? { blobs } : {}) });
    b = await startServer({
      port: 0,
      log: () => {},
      // Its own folder: with S3 nothing is shared on disk.
      dataDir: blobs ? `${a.dataDir}-b` : a.dataDir,
      database: a.databaseUrl,
      redis,
      ...(blobs ? { blobs } : {}),
    });
    await a.createUser('writer@example.com', PASSWORD);
    await a.createUser('reader@example.com', PASSWORD);
  });

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await b?.close();
    await a?.close();
  });

  it('accepts on B the tokens issued by A', async () => {
    expect((await request(b.url, 'GET', '/whoami', a.adminToken)).body.user.email).toBe('admin@localhost');
    const login = await request(a.url, 'POST', '/authentication', undefined, {
      strategy: 'local',
      email: 'writer@example.com',
      password: PASSWORD,
    });
    expect((await request(b.url, 'GET', '/whoami', login.body.accessToken)).body.user.email).toBe('writer@example.com');
  });

  it('delivers on A the events of writes made through B, only to those who may read them', async () => {
    const writerOnA = await socketClient(a.url, 'writer@example.com');
    const readerOnA = await socketClient(a.url, 'reader@example.com');
    const writerOnB = await socketClient(b.url, 'writer@example.com');
    const seenByReader: string[] = [];
    readerOnA.service('notes').on('created', (note: { title: string }) => seenByReader.push(note.title));
    const writerSaw = new Promise<{ title: string }>((resolve) => writerOnA.service('notes').once('created', resolve));
    const readerSawPublic = new Promise<void>((resolve) =>
      readerOnA.service('notes').on('created', (note: { title: string }) => note.title === 'public' && resolve()),
    );
    await writerOnB.service('notes').create({ title: 'private' });
    expect((await writerSaw).title).toBe('private');
    await writerOnB.service('notes').create({ title: 'public', public: true });
    await readerSawPublic;
    expect(seenByReader).toEqual(['public']);
  });

  it('loses nothing when writers on both instances write at once', async () => {
    const token = a.adminToken as string;
    const writes = Array.from({ length: 200 }, (_, i) =>
      request(i % 2 === 0 ? a.url : b.url, 'POST', '/concurrent', token, { i }),
    );
    const answers = await Promise.all(writes);
    expect(answers.every((answer) => answer.status === 201)).toBe(true);
    expect(new Set(answers.map((answer) => answer.body._id)).size).toBe(200);
    for (const url of [a.url, b.url]) {
      expect((await request(url, 'GET', '/concurrent?$limit=0', token)).body.total).toBe(200);
    }
  });

  it('downloads through B, byte for byte, a blob uploaded through A', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 5);
    const token = a.adminToken as string;
    const upload = await fetch(`${a.url}/blobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: bytes,
    });
    const { sha256 } = (await upload.json()) as { sha256: string };
    expect(sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const download = await fetch(`${b.url}/blobs/${sha256}`, { headers: { authorization: `Bearer ${token}` } });
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
  });
});
