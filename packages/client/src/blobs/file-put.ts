/**
 * Sending a byte range of a file as a request body through `node:http(s)`: the file is read
 * in 1 MiB pieces straight into the socket, through four buffers used over and over (a piece
 * is read into a buffer the socket has finished with). It costs about a third of the CPU of
 * `fetch` with a file-backed `Blob` body (web streams of 64 KiB pieces) for the same bytes,
 * and a fresh buffer per piece, as a file read stream makes, cost a push a fifth of its main
 * thread in garbage collection and page faults; a push is bound by the client's CPU. Used
 * when the caller gave no `fetch` of its own.
 */
import { open } from 'node:fs/promises';
import type { ClientRequest } from 'node:http';
import { LarderError } from '@larder/protocol';
import { errorFromAnswer, unreachable } from '../datastore/rest-transport.js';

export interface FileRange {
  path: string;
  /** Inclusive. */
  start: number;
  /** Exclusive. */
  end: number;
}

export interface FilePutAnswer {
  status: number;
  text: string;
}

const READ_BYTES = 1024 * 1024;
/** Pieces in flight at once: the socket writes one while the next are read. */
const READ_BUFFERS = 4;

/**
 * Sends `range` as the body of `method target`; answers the status and the answer's text.
 * A connection that fails or stalls past `timeout` is a retryable `Unavailable`/`Timeout`.
 */
export async function sendFileRange(
  method: string,
  target: string,
  base: string,
  headers: Record<string, string>,
  range: FileRange,
  timeout: number,
): Promise<FilePutAnswer> {
  const client = target.startsWith('https:') ? await import('node:https') : await import('node:http');
  const length = range.end - range.start;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (cause: unknown) => {
      if (settled) return;
      settled = true;
      request.destroy();
      reject(unreachable(method, target, base, timeout, cause));
    };
    const request = client.request(
      target,
      { method, headers: { ...headers, 'content-length': String(length) }, timeout },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('end', () => {
          if (settled) return;
          settled = true;
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    request.on('timeout', () =>
      fail(Object.assign(new Error(`No answer within ${timeout} ms`), { name: 'TimeoutError' })),
    );
    request.on('error', fail);
    if (length === 0) {
      request.end();
      return;
    }
    const stop = (error: Error) => {
      if (settled) return;
      settled = true;
      request.destroy();
      reject(error);
    };
    writeFileRange(request, range).then(
      () => request.end(),
      (error: Error) => stop(error),
    );
  });
}

/**
 * Writes `range` of its file into `request`, each piece read into a buffer the socket has
 * finished writing (its write callback), at most `READ_BUFFERS` pieces queued at once.
 * Fails if the file is shorter than the range or the request breaks.
 */
async function writeFileRange(request: ClientRequest, range: FileRange): Promise<void> {
  const file = await open(range.path, 'r');
  try {
    const free: Buffer[] = Array.from({ length: READ_BUFFERS }, () => Buffer.allocUnsafeSlow(READ_BYTES));
    let waiting: (() => void) | undefined;
    let broken: Error | undefined;
    const released = (buffer: Buffer) => (error?: Error | null) => {
      if (error) broken ??= error;
      free.push(buffer);
      waiting?.();
    };
    const closed = () => {
      broken ??= new Error('The request closed before its body was sent');
      waiting?.();
    };
    request.once('close', closed);
    try {
      for (let at = range.start; at < range.end; ) {
        while (free.length === 0 && broken === undefined) await new Promise<void>((wake) => (waiting = wake));
        waiting = undefined;
        if (broken) throw broken;
        const buffer = free.pop() as Buffer;
        const { bytesRead } = await file.read(buffer, 0, Math.min(READ_BYTES, range.end - at), at);
        if (bytesRead === 0) {
          throw new LarderError('Conflict', `${range.path} shrank while it was being uploaded; upload it again`);
        }
        at += bytesRead;
        request.write(buffer.subarray(0, bytesRead), released(buffer));
      }
    } finally {
      request.off('close', closed);
    }
  } finally {
    await file.close();
  }
}

/** The LarderError of a non-2xx answer, as `fetch`'s path makes it. */
export function answerError(method: string, target: string, answer: FilePutAnswer) {
  return errorFromAnswer(method, target, answer.status, answer.text);
}
