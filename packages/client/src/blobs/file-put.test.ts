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
  const bytes = randomBytes(3 * 1024 * 1024 + 17);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'larder-file-put-'));
    await writeFile(join(dir, 'file.bin'), bytes);
    server = createServer((request, response) => {
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
    const range = { path: join(dir, 'file.bin'), start: 1_000_001, end: 3 * 1024 * 1024 + 5 };
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
