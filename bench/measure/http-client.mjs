/**
 * The one HTTP client every server is measured with: node:http over a keep-alive Agent,
 * no Accept-Encoding (so neither server compresses), the body read in full before the
 * clock stops. JSON is parsed by the caller, outside the timed span.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

/**
 * @param {string} baseUrl e.g. `http://127.0.0.1:3030`
 * @example
 *   const client = createHttpClient(url);
 *   const { status, text, ms } = await client.send('GET', '/bench?$limit=0');
 */
export function createHttpClient(baseUrl) {
  const base = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

  /**
   * @param {string} method
   * @param {string} path
   * @param {Buffer} [body] an already serialised JSON body
   * @returns {Promise<{ status: number, text: string, ms: number }>}
   */
  function send(method, path, body) {
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const headers = body ? { 'content-type': 'application/json', 'content-length': body.byteLength } : {};
      const request = http.request(
        { host: base.hostname, port: base.port, method, path, agent, headers },
        (response) => {
          const chunks = [];
          response.on('data', (chunk) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              text: Buffer.concat(chunks).toString('utf8'),
              ms: performance.now() - started,
            }),
          );
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  /** Like `send`, but throws unless the status is the expected one. */
  async function expect(status, method, path, body) {
    const answer = await send(method, path, body);
    if (answer.status !== status) {
      throw new Error(`${method} ${path} answered ${answer.status}, not ${status}: ${answer.text.slice(0, 300)}`);
    }
    return answer;
  }

  return { send, expect, close: () => agent.destroy() };
}

/** Serialises a JSON body once, ahead of the timed loop. */
export function jsonBody(value) {
  return Buffer.from(JSON.stringify(value));
}
