import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LarderError } from '@larder/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { scanPack } from '../packs/pack-format.js';
import { packBytes, packObjects } from '../test-support/pack-bytes.js';
import { HttpExchange } from './http-exchange.js';
import { HttpStockRemote } from './http-stock-remote.js';

const servers: Server[] = [];
const folders: string[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((done) => server.close(done))));
  await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
});

async function serve(handle: (request: IncomingMessage, response: ServerResponse, body: Buffer) => void) {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handle(request, response, Buffer.concat(chunks)));
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function refusal(work: Promise<unknown>): Promise<LarderError> {
  const error = await work.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(LarderError);
  return error as LarderError;
}

describe('HttpExchange', () => {
  it('sends a JSON body with its length and answers the status and text', async () => {
    let seen: { method?: string; length?: string; body?: string } = {};
    const url = await serve((request, response, body) => {
      seen = { method: request.method, length: request.headers['content-length'], body: body.toString() };
      response.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    const exchange = new HttpExchange(10_000);
    try {
      const answer = await exchange.request('POST', `${url}/x`, url, {}, '{"name":"é"}');
      expect(answer).toEqual({ status: 201, text: '{"ok":true}' });
      expect(seen).toEqual({ method: 'POST', length: String(Buffer.byteLength('{"name":"é"}')), body: '{"name":"é"}' });
    } finally {
      exchange.close();
    }
  });

  it('turns a server that is not there, or silent, into a retryable Unavailable that says where', async () => {
    const closed = await serve(() => {});
    await new Promise((done) => servers.pop()?.close(done));
    const exchange = new HttpExchange(300);
    try {
      const gone = await refusal(exchange.request('GET', `${closed}/x`, closed, {}));
      expect(gone.name).toBe('Unavailable');
      expect(gone.message).toMatch(/Could not reach .*\/x \(ECONNREFUSED\); is the Larder server running at/);
      const silent = await serve(() => {});
      const late = await refusal(exchange.request('GET', `${silent}/x`, silent, {}));
      expect(late.name).toBe('Unavailable');
      expect(late.message).toMatch(/no answer within 300 ms/);
    } finally {
      exchange.close();
    }
  });
});

describe('HttpStockRemote over node:http', () => {
  it('refuses an answer that is not JSON with a clear BadGateway', async () => {
    const url = await serve((_request, response) => response.writeHead(200).end('<html>proxy</html>'));
    const remote = new HttpStockRemote({ url, token: 't' });
    try {
      const error = await refusal(remote.findRepository('mnist'));
      expect(error.name).toBe('BadGateway');
      expect(error.message).toMatch(/not JSON/);
    } finally {
      await remote.close();
    }
  });

  it('passes on the server’s error and sends the token', async () => {
    let authorization: string | undefined;
    const url = await serve((request, response) => {
      authorization = request.headers.authorization;
      response
        .writeHead(403, { 'content-type': 'application/json' })
        .end(JSON.stringify({ name: 'Forbidden', message: 'You may only read this repository', code: 403 }));
    });
    const remote = new HttpStockRemote({ url, token: 'secret' });
    try {
      const error = await refusal(remote.missingPacked('r1', ['a'.repeat(64)]));
      expect(error.name).toBe('Forbidden');
      expect(error.message).toBe('You may only read this repository');
      expect(authorization).toBe('Bearer secret');
    } finally {
      await remote.close();
    }
  });

  it('downloads a pack checked against its name, continues a part, and removes a damaged one', async () => {
    const pack = packBytes(packObjects(400));
    const name = createHash('sha256').update(pack).digest('hex');
    const ranges: (string | undefined)[] = [];
    let damage = false;
    const url = await serve((request, response) => {
      ranges.push(request.headers.range);
      const bytes = damage ? Buffer.concat([pack.subarray(1), Buffer.from([8])]) : pack;
      const start = Number(/^bytes=(\d+)-$/.exec(request.headers.range ?? '')?.[1] ?? 0);
      response.writeHead(start > 0 ? 206 : 200).end(bytes.subarray(start));
    });
    const folder = await mkdtemp(join(tmpdir(), 'stock-exchange-'));
    folders.push(folder);
    const part = join(folder, `${name}.pull.part`);
    const remote = new HttpStockRemote({ url });
    try {
      await writeFile(part, pack.subarray(0, 1000));
      // A continued part is installed from its file; a pack that came whole, from the bytes answered.
      expect(await remote.downloadPack('r1', name, part)).toBeUndefined();
      expect(ranges).toEqual(['bytes=1000-']);
      expect((await readFile(part)).equals(pack)).toBe(true);
      await rm(part);
      // Its objects were checked on the way in: what installing it needs, without reading it.
      const whole = await remote.downloadPack('r1', name, part);
      expect(whole?.size).toBe(pack.length);
      expect([...(whole?.entries ?? [])]).toEqual([...scanPack(pack, 'test')]);
      expect((await readFile(part)).equals(pack)).toBe(true);

      damage = true;
      await rm(part);
      const error = await refusal(remote.downloadPack('r1', name, part));
      expect(error.name).toBe('BadGateway');
      expect(error.message).toMatch(/arrived damaged.*pull again/);
      await expect(stat(part)).rejects.toThrow(/ENOENT/);
    } finally {
      await remote.close();
    }
  });

  it('refuses, and removes, a pack that is the one named but holds an object that is not its id', async () => {
    const pack = packBytes(packObjects(400));
    const [, entry] = [...scanPack(pack, 'test')][300] as [string, { offset: number }];
    pack.writeUInt8(pack.readUInt8(entry.offset + 2) ^ 1, entry.offset + 2);
    // The server's own copy is damaged: the file hashes to its name, one object does not.
    const name = createHash('sha256').update(pack).digest('hex');
    const url = await serve((_request, response) => response.writeHead(200).end(pack));
    const folder = await mkdtemp(join(tmpdir(), 'stock-exchange-'));
    folders.push(folder);
    const part = join(folder, `${name}.pull.part`);
    const remote = new HttpStockRemote({ url });
    try {
      const error = await refusal(remote.downloadPack('r1', name, part));
      expect(error.name).toBe('Unprocessable');
      expect(error.message).toMatch(/^The stock pack [0-9a-f]{12} from the server is damaged: object .* hashes to/);
      await expect(stat(part)).rejects.toThrow(/ENOENT/);
    } finally {
      await remote.close();
    }
  });
});
