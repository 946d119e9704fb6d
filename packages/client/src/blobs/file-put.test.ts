import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendFileRange } from './file-put.js';

describe('sendFileRange', () => {
  let dir: string;
  let server: Server;
  let base: string;
  const received: Buffer[] = [];
  // Larger than the sender's four 1 MiB buffers: the range reuses each of them.
  const bytes = randomBytes(9 * 1024 * 1024 + 17);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'larder-file-put-'));
    await writeFile(join(dir, 'file.bin'), bytes);
    server = createServer((request, response) => {
      if (request.headers['x-refuse']) {
        // Refused before a byte of the body is read: the server discards the rest.
        response.statusCode = 413;
        response.end('{"message":"too large"}');
        return;
      }
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push(Buffer.concat(chunks));
        response.statusCode = request.headers.authorization === 'Bearer no' ? 403 : 201;
        response.end(JSON.stringify({ method: request.method, length: request.headers['content-length'] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('sends exactly the bytes of the range, with its length, and answers the status and text', async () => {
    const range = { path: join(dir, 'file.bin'), start: 1_000_001, end: 9 * 1024 * 1024 + 5 };
    const answer = await sendFileRange('PUT', `${base}/x`, base, {}, range, 10_000);
    expect(answer.status).toBe(201);
    expect(JSON.parse(answer.text)).toEqual({ method: 'PUT', length: String(range.end - range.start) });
    expect(received.at(-1)?.equals(bytes.subarray(range.start, range.end))).toBe(true);
  });

  it('answers a refusal as it came, for the caller to turn into its error', async () => {
    const range = { path: join(dir, 'file.bin'), start: 0, end: 10 };
    const answer = await sendFileRange('PUT', `${base}/x`, base, { authorization: 'Bearer no' }, range, 10_000);
    expect(answer.status).toBe(403);
  });

  it('answers a refusal that came before the body was read, without waiting on the rest', async () => {
    const range = { path: join(dir, 'file.bin'), start: 0, end: bytes.length };
    const answer = await sendFileRange('PUT', `${base}/x`, base, { 'x-refuse': 'yes' }, range, 10_000);
    expect(answer).toEqual({ status: 413, text: '{"message":"too large"}' });
  });

  it('refuses a file shorter than its range (it shrank) instead of waiting for bytes that never come', async () => {
    const range = { path: join(dir, 'file.bin'), start: 0, end: bytes.length + 1024 };
    await expect(sendFileRange('PUT', `${base}/x`, base, {}, range, 10_000)).rejects.toMatchObject({
      name: 'Conflict',
    });
  });

  it('makes a server that cannot be reached a retryable Unavailable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const gone = `http://127.0.0.1:${port}`;
    const range = { path: join(dir, 'file.bin'), start: 0, end: 10 };
    await expect(sendFileRange('PUT', `${gone}/x`, gone, {}, range, 10_000)).rejects.toMatchObject({
      name: 'Unavailable',
    });
  });
});
