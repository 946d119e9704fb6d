/**
 * The blob routes over real HTTP: streaming upload, dedupe, verified PUT, ranged and
 * conditional downloads, HEAD, and refusals that reach the client as JSON errors.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/test-server.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Resolves with a node:http response's status and JSON body. */
function readJson(resolve: (answer: { status: number; body: any }) => void) {
  return (res: IncomingMessage) => {
    let text = '';
    res.on('data', (chunk) => {
      text += chunk;
    });
    res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
  };
}

/** A streamed upload with no Content-Length (chunked), as a client piping a file sends. */
function chunkedUpload(url: string, token: string, chunks: number, chunkSize: number) {
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = httpRequest(
      `${url}/blobs`,
      { method: 'POST', headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    let sent = 0;
    Readable.from(
      (function* () {
        while (sent < chunks) {
          sent += 1;
          yield Buffer.alloc(chunkSize, sent % 256);
        }
      })(),
    )
      .on('error', reject)
      .pipe(req)
      .on('error', () => {});
  });
}

describe('blob routes', () => {
  let server: TestServer;
  let token: string;
  const bytes = randomBytes(1024 * 1024 + 17);
  const hash = sha256(bytes);

  beforeAll(async () => {
    server = await startTestServer({ maxBlobBytes: 4 * 1024 * 1024 });
    token = server.adminToken as string;
  });
  afterAll(() => server.close());

  const auth = () => ({ authorization: `Bearer ${token}` });

  it('stores a body under its SHA-256 and answers 201 with the hash and size', async () => {
    const response = await fetch(`${server.url}/blobs`, { method: 'POST', headers: auth(), body: bytes });
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ sha256: hash, size: bytes.length });
  });

  it('stores the same bytes once', async () => {
    const again = await fetch(`${server.url}/blobs`, { method: 'POST', headers: auth(), body: bytes });
    expect(await again.json()).toEqual({ sha256: hash, size: bytes.length });
  });

  it('verifies a PUT against the hash in the path', async () => {
    const small = Buffer.from('verified content');
    const ok = await fetch(`${server.url}/blobs/${sha256(small)}`, { method: 'PUT', headers: auth(), body: small });
    expect(ok.status).toBe(201);
    const wrong = await fetch(`${server.url}/blobs/${sha256(Buffer.from('other'))}`, {
      method: 'PUT',
      headers: auth(),
      body: small,
    });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { name: string }).name).toBe('BadRequest');
  });

  it('streams a blob back whole, with its length and an ETag', async () => {
    const response = await fetch(`${server.url}/blobs/${hash}`, { headers: auth() });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String(bytes.length));
    expect(response.headers.get('etag')).toBe(`"${hash}"`);
    expect(response.headers.get('accept-ranges')).toBe('bytes');
    expect(sha256(Buffer.from(await response.arrayBuffer()))).toBe(hash);
  });

  it.each([
    ['bytes=0-0', 0, 0],
    ['bytes=100-199', 100, 199],
    [`bytes=${1024 * 1024}-`, 1024 * 1024, 1024 * 1024 + 16],
    ['bytes=-17', 1024 * 1024, 1024 * 1024 + 16],
  ])('honours Range %s', async (range, start, end) => {
    const response = await fetch(`${server.url}/blobs/${hash}`, { headers: { ...auth(), range } });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe(`bytes ${start}-${end}/${bytes.length}`);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes.subarray(start, end + 1));
  });

  it('answers 416 for a range past the end', async () => {
    const response = await fetch(`${server.url}/blobs/${hash}`, { headers: { ...auth(), range: 'bytes=99999999-' } });
    expect(response.status).toBe(416);
    expect(response.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
  });

  it('answers 304 when the client already has it', async () => {
    const response = await fetch(`${server.url}/blobs/${hash}`, {
      headers: { ...auth(), 'if-none-match': `"${hash}"` },
    });
    expect(response.status).toBe(304);
  });

  it('tells existence with HEAD, without a body', async () => {
    const present = await fetch(`${server.url}/blobs/${hash}`, { method: 'HEAD', headers: auth() });
    expect(present.status).toBe(200);
    expect(present.headers.get('content-length')).toBe(String(bytes.length));
    const absent = await fetch(`${server.url}/blobs/${'0'.repeat(64)}`, { method: 'HEAD', headers: auth() });
    expect(absent.status).toBe(404);
  });

  it('refuses a declared oversize upload with 413 before reading it', async () => {
    const response = await new Promise<{ status: number; body: any }>((resolve, reject) => {
      const req = httpRequest(
        `${server.url}/blobs`,
        { method: 'POST', headers: { ...auth(), 'content-length': String(5 * 1024 * 1024) } },
        readJson(resolve),
      );
      req.on('error', reject);
      // Send only the start of the announced body: the answer must come without the rest.
      req.write(Buffer.alloc(1024));
    });
    expect(response.status).toBe(413);
    expect(response.body.message).toContain('limited to 4194304 bytes');
  });

  it('refuses a streamed upload that grows past the limit with a 413 the client receives', async () => {
    const response = await chunkedUpload(server.url, token, 80, 64 * 1024);
    expect(response.status).toBe(413);
    expect(response.body).toMatchObject({ name: 'PayloadTooLarge', code: 413 });
    // Nothing of it was kept, and the server still works.
    const after = await fetch(`${server.url}/health`);
    expect(after.status).toBe(200);
  });

  it('accepts a streamed upload under the limit', async () => {
    const response = await chunkedUpload(server.url, token, 16, 64 * 1024);
    expect(response.status).toBe(201);
    expect(response.body.size).toBe(16 * 64 * 1024);
  });
});
