/**
 * Webhooks against a real receiver (a small HTTP server in the test): signed deliveries for
 * an alias set and moved, a finished run and an alert; retries with back-off while the
 * receiver answers 500, the delivery log showing each attempt; and nobody hearing of records
 * they may not read.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pmfVersionBody } from './support/pmf-version-body.js';
import { startTestServer, type TestServer } from './support/test-server.js';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  json: { id: string; event: string; text: string; data: Record<string, unknown> };
}

/** Collects deliveries; answers 500 to the first `failures` of them. */
function receiver() {
  const received: Received[] = [];
  const waiting: { count: number; resolve: () => void }[] = [];
  let failures = 0;
  let attempts = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      attempts++;
      if (failures > 0) {
        failures--;
        response.writeHead(500).end('busy');
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ headers: request.headers, body, json: JSON.parse(body) });
      response.writeHead(204).end();
      for (const wait of waiting.filter((each) => received.length >= each.count)) wait.resolve();
    });
  });
  return {
    received,
    attempts: () => attempts,
    failNext: (count: number) => {
      failures = count;
    },
    /** Resolves once `count` deliveries arrived (each successful delivery counts once). */
    until: (count: number) =>
      received.length >= count ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ count, resolve })),
    listen: () =>
      new Promise<string>((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`)),
      ),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function verified(delivery: Received, secret: string): boolean {
  const timestamp = String(delivery.headers['x-larder-timestamp']);
  const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${delivery.body}`).digest('hex')}`;
  return delivery.headers['x-larder-signature'] === expected;
}

describe('webhooks', () => {
  let server: TestServer;
  let ada: { id: string; token: string };
  let eve: { id: string; token: string };
  const hooks = receiver();
  const eves = receiver();
  let url: string;

  beforeAll(async () => {
    server = await startTestServer({ webhookRetryBaseMs: 200, gcIntervalMs: 0 });
    ada = await server.createUser('ada@example.org', 'a long password');
    eve = await server.createUser('eve@example.org', 'a long password');
    url = await hooks.listen();
  });
  afterAll(async () => {
    await server?.close();
    await hooks.close();
    await eves.close();
  });

  const as = (user: { token: string }) => ({
    post: (path: string, body: unknown) => server.request('POST', path, { token: user.token, body }),
    patch: (path: string, body: unknown) => server.request('PATCH', path, { token: user.token, body }),
    get: (path: string) => server.request('GET', path, { token: user.token }),
  });

  it('refuses bad configuration and never shows the secret again', async () => {
    for (const body of [{ url: 'ftp://x' }, { url: 5 }, { url, events: ['run.exploded'] }, { url, secret: 'short' }]) {
      expect((await as(ada).post('/webhooks', body)).status).toBe(400);
    }
    const made = await as(ada).post('/webhooks', { url: 'https://example.org/x', events: ['run.finished'] });
    expect(made.status).toBe(201);
    expect(made.body.secret).toMatch(/^whsec_/);
    expect((await as(ada).get(`/webhooks/${made.body._id}`)).body).not.toHaveProperty('secret');
    expect((await as(ada).get('/webhooks?$select[]=secret')).status).toBe(400);
    expect((await as(eve).get(`/webhooks/${made.body._id}`)).status).toBe(404);
    expect((await server.request('DELETE', `/webhooks/${made.body._id}`, { token: ada.token })).status).toBe(200);
  });

  it('delivers signed events for a finished run, an alert and alias moves, retrying while the receiver fails', async () => {
    const hook = await as(ada).post('/webhooks', { url, events: ['run.finished', 'run.alert', 'model.alias.set'] });
    expect(hook.status).toBe(201);
    const secret = hook.body.secret as string;
    // Eve listens to everything: she must hear of nothing of Ada's.
    const eveHook = await as(eve).post('/webhooks', { url: await eves.listen(), events: ['*'] });
    expect(eveHook.status).toBe(201);

    const run = await as(ada).post('/runs', { name: 'train', folder: 'hooks', makeFolder: true });
    hooks.failNext(2);
    expect((await as(ada).patch(`/runs/${run.body._id}`, { status: 'Complete' })).status).toBe(200);
    await hooks.until(1);
    const finished = hooks.received[0] as Received;
    expect(finished.json).toMatchObject({ event: 'run.finished', data: { runId: run.body._id, status: 'Complete' } });
    expect(finished.json.text).toMatch(/train finished/);
    expect(finished.headers['x-larder-event']).toBe('run.finished');
    expect(verified(finished, secret)).toBe(true);
    expect(verified(finished, 'whsec_wrong')).toBe(false);
    expect(hooks.attempts()).toBe(3);
    // The log holds each attempt: two 500s, then the success.
    const log = await as(ada).get(`/webhook-deliveries?webhookId=${hook.body._id}`);
    const delivery = log.body.data.find((each: { event: string }) => each.event === 'run.finished');
    expect(delivery.status).toBe('delivered');
    expect(delivery.attempts.map((attempt: { status: number }) => attempt.status)).toEqual([500, 500, 204]);
    // The same status again is not news.
    await as(ada).patch(`/runs/${run.body._id}`, { status: 'Complete', description: 'again' });

    const alert = await as(ada).post('/run-alerts', { run: run.body._id, title: 'loss diverged', level: 'warn' });
    expect(alert.status).toBe(201);
    expect((await as(eve).post('/run-alerts', { run: run.body._id, title: 'x' })).status).toBe(404);
    await hooks.until(2);
    expect(hooks.received[1]?.json).toMatchObject({
      event: 'run.alert',
      data: { title: 'loss diverged', level: 'warn' },
    });
    expect(hooks.received[1]?.json.text).toMatch(/\[WARN\] train: loss diverged/);

    // A model with two versions; an alias set, then moved.
    const model = await as(ada).post('/models', { name: 'hooked' });
    const upload = async (content: Buffer | string) => {
      const response = await fetch(`${server.url}/blobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ada.token}` },
        body: content,
      });
      return (await response.json()) as { sha256: string; size: number };
    };
    const pushes = [];
    for (let n = 0; n < 2; n++) {
      pushes.push(await as(ada).post('/model-versions', await pmfVersionBody(upload, model.body._id)));
    }
    for (const push of pushes) expect(push.status, JSON.stringify(push.body)).toBe(201);
    await as(ada).patch(`/models/${model.body._id}`, { 'aliases.production': 1 });
    await hooks.until(3);
    await as(ada).patch(`/models/${model.body._id}`, { 'aliases.production': 2 });
    await hooks.until(4);
    const aliasEvents = hooks.received.filter((each) => each.json.event === 'model.alias.set').map((each) => each.json);
    expect(aliasEvents.map((each) => [each.data.alias, each.data.version, each.data.previousVersion])).toEqual([
      ['production', 1, null],
      ['production', 2, 1],
    ]);
    expect(aliasEvents[1]?.text).toMatch(/moved from version 1 to 2/);
    for (const each of hooks.received) expect(verified(each, secret)).toBe(true);
    // Eve's catch-all hook heard nothing of Ada's records, and she cannot read Ada's log.
    expect(eves.received).toEqual([]);
    expect((await as(eve).get('/webhook-deliveries')).body.total).toBe(0);
  });
});
