/**
 * A tiny HTTP server for checking the wire format the SDK produces: it records each
 * request (method, path, raw and qs-parsed query, headers, JSON body) and answers what the
 * test tells it to. Not a stand-in for the Larder server.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'qs';

export interface RecordedRequest {
  method: string;
  /** The raw path, still percent-encoded. */
  path: string;
  /** The raw query string without `?`. */
  search: string;
  /** The query string as a Feathers server's qs parses it. */
  query: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface CannedAnswer {
  status?: number;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is, instead of `body`. */
  text?: string;
  /** Never answer (until the server closes). */
  hang?: boolean;
}

export type Responder = (request: RecordedRequest) => CannedAnswer;

export interface RecordingServer {
  url: string;
  server: Server;
  requests: RecordedRequest[];
  /** Replaced by tests to change the canned answers. */
  respond: Responder;
  close(): Promise<void>;
}

export async function startRecordingServer(respond: Responder = () => ({ body: {} })): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const [path = '', search = ''] = (request.url ?? '').split('?', 2);
      const recorded: RecordedRequest = {
        method: request.method ?? '',
        path,
        search,
        query: parse(search),
        headers: request.headers,
        body: raw === '' ? undefined : JSON.parse(raw),
      };
      requests.push(recorded);
      const answer = recording.respond(recorded);
      if (answer.hang) return;
      const text = answer.text ?? JSON.stringify(answer.body ?? null);
      response.writeHead(answer.status ?? 200, {
        'content-type': answer.text === undefined ? 'application/json' : 'text/html',
      });
      response.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const recording: RecordingServer = {
    url: `http://127.0.0.1:${port}`,
    server,
    requests,
    respond,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return recording;
}
