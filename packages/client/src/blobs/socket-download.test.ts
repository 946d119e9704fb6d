import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LarderError } from '@larder/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAt } from './body-placement.js';
import { SocketAnswerUnsupported, socketDownload } from './socket-download.js';

/** A raw TCP server: each connection's request head is recorded, then `answer` writes whatever it likes. */
async function rawServer(answer: (socket: Socket, head: string) => Promise<void>) {
  const heads: string[] = [];
  const server: Server = createServer((socket) => {
    let head = '';
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      if (head.includes('\r\n\r\n')) return;
      head += chunk.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        heads.push(head);
        answer(socket, head).catch(() => socket.destroy());
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = (path: string) => new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`);
  return { heads, url, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** Writes `bytes` in pieces of `piece` bytes with a pause between some, so the client reads them in many reads. */
async function writeInPieces(socket: Socket, bytes: Buffer, piece: number) {
  for (let at = 0; at < bytes.length; at += piece) {
    if (!socket.write(bytes.subarray(at, at + piece))) await new Promise((resolve) => socket.once('drain', resolve));
    if ((at / piece) % 64 === 0) await sleep(1);
  }
}

describe('socketDownload', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'larder-socket-download-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function into(name: string, at: number, limit: number) {
    const handle = await open(join(dir, name), 'w+');
    const progress = { at };
    const statuses: number[] = [];
    const placement = {
      handle,
      progress,
      limit,
      placeBody: async (status: number) => {
        statuses.push(status);
      },
    };
    return { handle, progress, statuses, placement, path: join(dir, name) };
  }

  it('writes a sized body larger than its buffers exactly, the head cut across reads, after an interim answer', async () => {
    const body = randomBytes(13 * 1024 * 1024 + 11);
    const server = await rawServer(async (socket) => {
      socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Len');
      await sleep(5);
      socket.write(`gth: ${body.length}\r\nETag: "x"\r\n\r\n`);
      await writeInPieces(socket, body, 200_000);
      socket.end();
    });
    const target = await into('whole.bin', 0, body.length);
    const answer = await socketDownload(
      server.url('/model-files/v/a%20b.bin?x=1'),
      { authorization: 'Bearer t' },
      10_000,
      target.placement,
    );
    await target.handle.close();
    expect(answer).toMatchObject({ status: 200, text: '' });
    expect(answer.headers.get('etag')).toBe('"x"');
    expect(target.statuses).toEqual([200]);
    expect(target.progress.at).toBe(body.length);
    expect((await readFile(target.path)).equals(body)).toBe(true);
    expect(server.heads[0]).toMatch(/^GET \/model-files\/v\/a%20b\.bin\?x=1 HTTP\/1\.1\r\n/);
    expect(server.heads[0]).toContain('\r\nauthorization: Bearer t\r\n');
    await server.close();
  });

  it('writes a range answer from where the file stands, and drops what runs past its end', async () => {
    const start = Buffer.from('already here;');
    const rest = randomBytes(3 * 1024 * 1024);
    const server = await rawServer(async (socket) => {
      socket.write(`HTTP/1.1 206 Partial Content\r\ncontent-length: ${rest.length + 100}\r\n\r\n`);
      await writeInPieces(socket, Buffer.concat([rest, Buffer.alloc(100, 7)]), 65_536);
      socket.end();
    });
    const target = await into('range.bin', start.length, start.length + rest.length);
    await target.handle.write(start, 0, start.length, 0);
    const answer = await socketDownload(server.url('/f'), {}, 10_000, target.placement);
    await target.handle.close();
    expect(answer.status).toBe(206);
    expect(target.progress.at).toBe(start.length + rest.length);
    expect((await readFile(target.path)).equals(Buffer.concat([start, rest]))).toBe(true);
    await server.close();
  });

  it('answers an error answer with its text, writing nothing to the file', async () => {
    const server = await rawServer(async (socket) => {
      socket.end(
        'HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 21\r\n\r\n{"message":"no such"}',
      );
    });
    const target = await into('missing.bin', 0, 100);
    const answer = await socketDownload(server.url('/f'), {}, 10_000, target.placement);
    await target.handle.close();
    expect(answer).toMatchObject({ status: 404, text: '{"message":"no such"}' });
    expect(target.statuses).toEqual([]);
    expect((await readFile(target.path)).length).toBe(0);
    await server.close();
  });

  it('leaves answers it does not read (chunked, unsized, not HTTP) to node:http', async () => {
    const answers = [
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
      'HTTP/1.1 200 OK\r\n\r\nhello',
      'SSH-2.0-OpenSSH\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello',
    ];
    let next = 0;
    const server = await rawServer(async (socket) => {
      socket.end(answers[next++] ?? '');
    });
    for (const _ of answers) {
      const target = await into('unsupported.bin', 0, 100);
      await expect(socketDownload(server.url('/f'), {}, 10_000, target.placement)).rejects.toBeInstanceOf(
        SocketAnswerUnsupported,
      );
      await target.handle.close();
      expect(target.statuses).toEqual([]);
    }
    const tls = await into('tls.bin', 0, 1);
    await expect(socketDownload(new URL('https://127.0.0.1/f'), {}, 10_000, tls.placement)).rejects.toBeInstanceOf(
      SocketAnswerUnsupported,
    );
    await tls.handle.close();
    await server.close();
  });

  it('keeps the bytes that came before a broken connection, and says it broke (retryable)', async () => {
    const body = randomBytes(5 * 1024 * 1024);
    const sent = 3 * 1024 * 1024 + 77;
    const server = await rawServer(async (socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
      await writeInPieces(socket, body.subarray(0, sent), 100_000);
      await sleep(20);
      socket.destroy();
    });
    const target = await into('broken.bin', 0, body.length);
    const failed = socketDownload(server.url('/f'), {}, 10_000, target.placement);
    await expect(failed).rejects.toBeInstanceOf(LarderError);
    await expect(failed).rejects.toMatchObject({ name: 'Unavailable' });
    await target.handle.close();
    expect(target.progress.at).toBe(sent);
    expect((await readFile(target.path)).equals(body.subarray(0, sent))).toBe(true);
    await server.close();
  });

  it('fails a silent server after its timeout, and an unreachable one with the socket error', async () => {
    const server = await rawServer(async () => {});
    const silent = await into('silent.bin', 0, 10);
    await expect(socketDownload(server.url('/f'), {}, 200, silent.placement)).rejects.toMatchObject({
      name: 'Timeout',
    });
    const url = server.url('/f');
    await server.close();
    const refused = await into('refused.bin', 0, 10);
    await expect(socketDownload(url, {}, 10_000, refused.placement)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await Promise.all([silent.handle.close(), refused.handle.close()]);
  });

  it('refuses a header that would break the request into two', async () => {
    const target = await into('header.bin', 0, 10);
    await expect(
      socketDownload(
        new URL('http://127.0.0.1:9/f'),
        { authorization: 'Bearer x\r\nX-Evil: 1' },
        1000,
        target.placement,
      ),
    ).rejects.toMatchObject({ name: 'BadRequest' });
    await target.handle.close();
  });

  it('writes pieces in order through short writes, telling each written byte once, and stops at the limit', async () => {
    const file = Buffer.alloc(10_000);
    // A file that takes at most 777 bytes a write.
    const handle = {
      writev: async (pieces: Uint8Array[], at: number) => {
        let written = 0;
        for (const piece of pieces) {
          const n = Math.min(piece.byteLength, 777 - written);
          file.set(piece.subarray(0, n), at + written);
          written += n;
          if (written === 777) break;
        }
        return { bytesWritten: written, buffers: pieces };
      },
    };
    const data = randomBytes(6000);
    const told: Buffer[] = [];
    const placement = {
      handle: handle as unknown as FileHandle,
      progress: { at: 100 },
      limit: 5100,
      placeBody: async () => {},
      onWritten: (bytes: Uint8Array) => told.push(Buffer.from(bytes)),
    };
    await writeAt(placement, [data.subarray(0, 2500), data.subarray(2500, 2501), data.subarray(2501)]);
    expect(placement.progress.at).toBe(5100);
    expect(file.subarray(100, 5100).equals(data.subarray(0, 5000))).toBe(true);
    expect(Buffer.concat(told).equals(data.subarray(0, 5000))).toBe(true);
    expect(file.subarray(5100).every((byte) => byte === 0)).toBe(true);
  });
});
