/**
 * Downloading a large file body over plain HTTP/1.1 straight from the socket into the file.
 * `node:http` copies every body byte out of the socket's read into a fresh buffer of its own
 * (and its parser runs over it): on a registry pull that copy and the garbage it leaves
 * were a third of the SDK's CPU. Here the socket reads into a few reused 1 MiB buffers
 * (`onread`), the bytes after the answer's head are written from them into the file, in
 * order, in vectored positional writes, and a buffer goes back to the socket once written;
 * the socket pauses while none is free.
 *
 * Only the simplest answer takes this path: a 2xx with a `Content-Length` and no transfer
 * coding. Anything else (chunked, no length, https) is `SocketAnswerUnsupported`, and the
 * caller asks again through `node:http`. An error answer (non-2xx) comes back with its
 * text, read whole, as `node:http` would give it.
 */
import { connect, type Socket } from 'node:net';
import { LarderError } from '@larder/protocol';
import { type BodyPlacement, writeAt } from './body-placement.js';

const BUFFER_BYTES = 1024 * 1024;
const BUFFERS = 8;
/** An answer's head (status line and headers) may be this long. */
const MAX_HEAD_BYTES = 64 * 1024;
/** An error answer's text is kept up to this much. */
const MAX_ERROR_TEXT_BYTES = 1024 * 1024;

/** The answer is not one this path handles (see the module's notes): ask through node:http. */
export class SocketAnswerUnsupported extends Error {
  override name = 'SocketAnswerUnsupported';
}

export interface SocketAnswer {
  status: number;
  /** The answer's headers, by lower-case name (a repeated one: its last value). */
  headers: Map<string, string>;
  /** The text of an error (non-2xx) answer; empty for a 2xx one, whose body went to the file. */
  text: string;
}

/**
 * GETs `target` (an `http:` URL) on a connection of its own and writes a 2xx answer's body
 * into `placement`. A connection that breaks, or a body cut short, rejects with the bytes
 * written so far reflected in `progress.at` (a retryable `Unavailable`; `Timeout` after
 * `timeout` ms without a byte); a server that cannot be reached rejects with the socket's
 * own error.
 */
export async function socketDownload(
  target: URL,
  headers: Record<string, string>,
  timeout: number,
  placement: BodyPlacement,
): Promise<SocketAnswer> {
  if (target.protocol !== 'http:') throw new SocketAnswerUnsupported(target.protocol);
  const request = requestHead(target, headers);
  return new Promise<SocketAnswer>((resolve, reject) => {
    const free: Buffer[] = Array.from({ length: BUFFERS }, () => Buffer.allocUnsafeSlow(BUFFER_BYTES));
    let head = Buffer.alloc(0);
    let status = 0;
    let answerHeaders = new Map<string, string>();
    /** Body bytes still to come, once the head is read (NaN before). */
    let left = Number.NaN;
    let errorText: Buffer[] | undefined;
    let errorBytes = 0;
    let settled = false;
    let paused = false;
    const writer = new OrderedWriter(placement, (buffer) => {
      free.push(buffer);
      if (paused && !settled) {
        paused = false;
        socket.resume();
      }
    });

    const finish = (error: Error | undefined) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      // Settled only once every queued write landed, so `progress.at` is where bytes end.
      writer.drained().then(
        () =>
          error
            ? reject(error)
            : resolve({
                status,
                headers: answerHeaders,
                text: errorText ? Buffer.concat(errorText).toString('utf8') : '',
              }),
        (writeError: Error) => reject(error ?? writeError),
      );
    };
    const broke = (why: string, cause?: unknown) =>
      finish(new LarderError('Unavailable', `The download of ${target.pathname} broke off (${why})`, { cause }));

    /**
     * Takes body bytes (a view of the pooled `buffer`, or of a buffer of their own when
     * `buffer` is undefined); answers whether `buffer` is now held by a write.
     */
    const takeBody = (bytes: Buffer, buffer: Buffer | undefined): boolean => {
      const kept = bytes.subarray(0, Math.min(bytes.length, left));
      left -= kept.length;
      if (errorText !== undefined) {
        const text = kept.subarray(0, MAX_ERROR_TEXT_BYTES - errorBytes);
        errorText.push(Buffer.from(text));
        errorBytes += text.length;
        if (left === 0 || errorBytes >= MAX_ERROR_TEXT_BYTES) finish(undefined);
        return false;
      }
      if (kept.length > 0) writer.push(kept, buffer);
      if (left === 0) finish(undefined);
      return kept.length > 0 && buffer !== undefined;
    };

    /** Gathers the answer's head from `bytes` (copied: the socket's buffer stays free); its body's start goes on. */
    const takeHead = (bytes: Buffer): void => {
      head = Buffer.concat([head, bytes]);
      const parsed = parseHead(head);
      if (parsed === 'incomplete') {
        if (head.length > MAX_HEAD_BYTES) finish(new SocketAnswerUnsupported('an answer head too long'));
        return;
      }
      if (parsed === 'unsupported') {
        finish(new SocketAnswerUnsupported('an answer it cannot read'));
        return;
      }
      const rest = head.subarray(parsed.headLength);
      head = Buffer.alloc(0);
      // An interim answer (100, 103): the real one follows.
      if (parsed.status < 200) {
        takeHead(rest);
        return;
      }
      status = parsed.status;
      answerHeaders = parsed.headers;
      if (parsed.chunked) {
        finish(new SocketAnswerUnsupported('a chunked answer'));
        return;
      }
      if (status >= 300) {
        errorText = [];
        left = parsed.length ?? Number.POSITIVE_INFINITY;
      } else {
        if (parsed.length === undefined) {
          finish(new SocketAnswerUnsupported('a body without a length'));
          return;
        }
        left = parsed.length;
        writer.start(placement.placeBody(status, answerHeaders));
      }
      takeBody(rest, undefined);
    };

    const socket: Socket = connect({
      host: target.hostname.replace(/^\[|\]$/g, ''),
      port: Number(target.port || 80),
      onread: {
        buffer: () => free.pop() as Buffer,
        callback: (bytesRead: number, buffer: Uint8Array) => {
          if (settled) return false;
          const bytes = Buffer.from(buffer.buffer, buffer.byteOffset, bytesRead);
          // A buffer not held by a write goes straight back to the pool.
          let held = false;
          if (Number.isNaN(left)) takeHead(bytes);
          else held = takeBody(bytes, buffer as Buffer);
          if (!held) free.push(buffer as Buffer);
          // The socket takes the next buffer from the pool after this: keep one for it.
          if (free.length <= 1 && !settled) {
            paused = true;
            return false;
          }
          return true;
        },
      },
    });
    let connected = false;
    socket.setTimeout(timeout, () =>
      finish(new LarderError('Timeout', `GET ${target.href} got no answer within ${timeout} ms`)),
    );
    socket.on('connect', () => {
      connected = true;
      socket.write(request);
    });
    // Not reached at all: the bare cause, for the caller to describe as it describes any.
    socket.on('error', (cause) => (connected ? broke(cause.message, cause) : finish(cause)));
    socket.on('end', () => {
      if (errorText !== undefined && left === Number.POSITIVE_INFINITY) finish(undefined);
      else broke('the connection closed early');
    });
    socket.on('close', () => broke('the connection closed'));
  });
}

function requestHead(target: URL, headers: Record<string, string>): string {
  const lines = [`GET ${target.pathname}${target.search} HTTP/1.1`, `Host: ${target.host}`, 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) {
      throw new LarderError('BadRequest', `The header ${JSON.stringify(name)} holds a line break`);
    }
    lines.push(`${name}: ${value}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

interface Head {
  status: number;
  headers: Map<string, string>;
  headLength: number;
  length: number | undefined;
  chunked: boolean;
}

/** The answer's status line and the headers this path needs, once `bytes` holds them whole. */
function parseHead(bytes: Buffer): Head | 'incomplete' | 'unsupported' {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return 'incomplete';
  const [statusLine = '', ...lines] = bytes.toString('latin1', 0, end).split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine);
  if (!match) return 'unsupported';
  let length: number | undefined;
  let chunked = false;
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) return 'unsupported';
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, value);
    if (name === 'content-length') {
      if (!/^\d{1,15}$/.test(value) || (length !== undefined && length !== Number(value))) return 'unsupported';
      length = Number(value);
    } else if (name === 'transfer-encoding' && value.toLowerCase() !== 'identity') chunked = true;
  }
  return { status: Number(match[1]), headers, headLength: end + 4, length, chunked };
}

/**
 * Writes the body's pieces into the file in order, all those queued at once in one vectored
 * write; `release` gets each pooled buffer back once its bytes are in the file.
 */
class OrderedWriter {
  readonly #placement: BodyPlacement;
  readonly #release: (buffer: Buffer) => void;
  #queue: { bytes: Buffer; buffer: Buffer | undefined }[] = [];
  #ready: Promise<void> | undefined;
  #running: Promise<void> = Promise.resolve();
  #writing = false;
  #failed: Error | undefined;

  constructor(placement: BodyPlacement, release: (buffer: Buffer) => void) {
    this.#placement = placement;
    this.#release = release;
  }

  /** Writes wait for `ready` (the caller's placement of the body). */
  start(ready: Promise<void>): void {
    this.#ready = ready;
    ready.catch(() => {});
  }

  push(bytes: Buffer, buffer: Buffer | undefined): void {
    this.#queue.push({ bytes, buffer });
    if (!this.#writing) {
      this.#writing = true;
      this.#running = this.#run();
    }
  }

  /** Resolves once the body is placed and every queued piece written; rejects with the first failure. */
  async drained(): Promise<void> {
    await this.#ready;
    await this.#running;
    if (this.#failed) throw this.#failed;
  }

  async #run(): Promise<void> {
    try {
      await this.#ready;
      while (this.#queue.length > 0) {
        const pieces = this.#queue;
        this.#queue = [];
        try {
          if (this.#failed === undefined)
            await writeAt(
              this.#placement,
              pieces.map((piece) => piece.bytes),
            );
        } catch (error) {
          this.#failed ??= error as Error;
        }
        for (const { buffer } of pieces) if (buffer) this.#release(buffer);
      }
    } catch (error) {
      this.#failed ??= error as Error;
      for (const { buffer } of this.#queue.splice(0)) if (buffer) this.#release(buffer);
    } finally {
      this.#writing = false;
    }
  }
}
