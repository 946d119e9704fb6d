/**
 * The stock remote's requests over `node:http(s)`, on one keep-alive agent per remote. A push
 * or pull is a handful of JSON asks and a few large bodies; `fetch` (undici, loaded on its
 * first use) costs a fresh `larder stock push` more CPU to load than all its asks take, and
 * its web streams cost more per downloaded chunk than a plain response stream.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { LarderError } from '@larder/protocol';

export interface ExchangeAnswer {
  status: number;
  text: string;
}

export class HttpExchange {
  readonly #agent = new http.Agent({ keepAlive: true });
  readonly #secureAgent = new https.Agent({ keepAlive: true });

  constructor(private readonly timeoutMs: number) {}

  /** Sends `body` (JSON text, or none) and answers the status and the answer's text. */
  request(
    method: string,
    target: string,
    base: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<ExchangeAnswer> {
    return this.stream(method, target, base, headers, body, async (response) => ({
      status: response.statusCode ?? 0,
      text: (await readBody(response)).toString('utf8'),
    }));
  }

  /**
   * Sends the request and hands the response to `consume` (which must read or discard it);
   * a connection that fails, or stays silent past the timeout, is a retryable `Unavailable`.
   */
  stream<T>(
    method: string,
    target: string,
    base: string,
    headers: Record<string, string>,
    body: string | undefined,
    consume: (response: IncomingMessage) => Promise<T>,
  ): Promise<T> {
    const secure = target.startsWith('https:');
    const client = secure ? https : http;
    const sent = body === undefined ? undefined : Buffer.from(body, 'utf8');
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const fail = (cause: unknown): void => {
        if (settled) return;
        settled = true;
        request.destroy();
        reject(
          cause instanceof LarderError
            ? cause
            : new LarderError(
                'Unavailable',
                `Could not reach ${target} (${reason(cause)}); is the Larder server running at ${base}?`,
                { cause },
              ),
        );
      };
      const request = client.request(
        target,
        {
          method,
          agent: secure ? this.#secureAgent : this.#agent,
          headers: sent === undefined ? headers : { ...headers, 'content-length': String(sent.length) },
          timeout: this.timeoutMs,
        },
        (response) => {
          response.on('error', fail);
          consume(response).then((answer) => {
            if (settled) return;
            settled = true;
            resolve(answer);
          }, fail);
        },
      );
      request.on('timeout', () => fail(new Error(`no answer within ${this.timeoutMs} ms`)));
      request.on('error', fail);
      request.end(sent);
    });
  }

  close(): void {
    this.#agent.destroy();
    this.#secureAgent.destroy();
  }
}

/** The whole of a response's body. */
export async function readBody(response: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function reason(cause: unknown): string {
  const code = (cause as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return cause instanceof Error ? cause.message : String(cause);
}
